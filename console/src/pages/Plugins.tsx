// Plugins: bundled and installed, by category, with what each may do; a plugin's manifest
// and schemas; install a component with a permission review (granting a subset); remove.
import { useState } from 'react';
import { ApiError, call, del, enc, get } from '../api';
import { explain, grantedText, groupByCategory, installed, matchesSearch, packId } from '../plugins';
import { Link, navigate } from '../router';
import type { Pack, PackInstalled, PluginDetail, PluginList, PluginRow } from '../types';
import { ErrorBox, Json, useLoad } from '../util';

export { explain };

export function PluginsPage() {
  const { data, error, reload } = useLoad(() => get<PluginList>('/plugins'), []);
  const [kind, setKind] = useState('');
  const [category, setCategory] = useState('');
  const [search, setSearch] = useState('');
  const all = groupByCategory(data?.plugins ?? [], data?.categories ?? []);
  const groups = all
    .filter((g) => !category || g.category === category)
    .map((g) => ({ ...g, plugins: g.plugins.filter((p) => (!kind || p.kind === kind) && matchesSearch(p, search)) }))
    .filter((g) => g.plugins.length > 0);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Plugins</h1>
      </header>
      <Install onInstalled={reload} />
      <div className="filters">
        <input type="search" aria-label="Search plugins" placeholder="Search plugins" value={search} onChange={(e) => setSearch(e.target.value)} />
        <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">All kinds</option>
          <option value="action">Actions</option>
          <option value="condition">Conditions</option>
          <option value="connector">Connectors</option>
        </select>
        <select aria-label="Category" value={category} onChange={(e) => setCategory(e.target.value)}>
          <option value="">All categories</option>
          {all.map((g) => (
            <option key={g.category} value={g.category}>
              {g.category} ({g.plugins.length})
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={error} />
      <table className="table" data-testid="plugins">
        <thead>
          <tr>
            <th>Plugin</th>
            <th>Kind</th>
            <th>Source</th>
            <th>Permissions (granted / declared)</th>
            <th>Digest</th>
          </tr>
        </thead>
        {groups.map((g) => (
          <tbody key={g.category} data-testid={`category-${g.category}`}>
            <tr className="category-row">
              <th colSpan={5} scope="rowgroup">
                {g.category} <span className="muted small">({g.plugins.length})</span>
              </th>
            </tr>
            {g.plugins.map((p) => (
              <tr key={`${p.name}@${p.version}`}>
                <td>
                  <Link to={`/plugins/${enc(`${p.name}@${p.version}`)}`} className="strong">
                    {p.name}
                  </Link>{' '}
                  <span className="muted small">{p.version}</span>
                  {p.pack && (
                    <>
                      {' '}
                      <Link to={`/plugins/${enc(packId(p.pack))}`} className="badge pack" title={p.pack.description}>
                        pack {packId(p.pack)}
                      </Link>
                    </>
                  )}
                  <div className="muted small">{p.description}</div>
                </td>
                <td>{p.kind}</td>
                <td>{p.bundled ? 'bundled' : 'installed'}</td>
                <td className="small">
                  {(p.grants ?? []).join(', ') || 'none'} / {(p.permissions ?? []).join(', ') || 'none'}
                </td>
                <td>
                  <code className="small">{String(p.digest ?? '').slice(0, 12)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        ))}
      </table>
      {data && groups.length === 0 && <div className="empty">No plugin matches.</div>}
    </div>
  );
}

/**
 * Install: upload once with nothing granted, review what the plugin declares, then grant a
 * subset. What a component declares is known only by running its `describe()` in the
 * service's sandbox, so the review needs the service's answer to the upload; the grants
 * then go without the component (`PUT /plugins/{id}/grants`, pinned to the digest reviewed).
 * A pack is reviewed plugin by plugin (grants are per plugin: one PUT each), and cancelling
 * removes the whole pack.
 */
function Install({ onInstalled }: { onInstalled: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [review, setReview] = useState<{ pack: Pack | null; plugins: PluginRow[] } | null>(null);
  // What is ticked, by plugin (`name@version`).
  const [chosen, setChosen] = useState<Map<string, Set<string>>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const idOf = (p: PluginRow) => `${p.name}@${p.version}`;
  const start = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      // Installed with nothing granted (it can do nothing yet), so its declared
      // permissions can be reviewed before any is granted.
      const answer = await call<PluginRow | PackInstalled>('/plugins', { method: 'POST', body: await file!.arrayBuffer(), contentType: 'application/wasm' });
      onInstalled();
      const r = installed<PluginRow>(answer);
      setReview(r);
      setChosen(new Map(r.plugins.map((p) => [idOf(p), new Set(p.permissions ?? [])])));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const grant = async () => {
    if (!review) return;
    setBusy(true);
    setError(null);
    try {
      const results: PluginRow[] = [];
      for (const p of review.plugins) {
        results.push(
          await call<PluginRow>(`/plugins/${enc(idOf(p))}/grants`, {
            method: 'PUT',
            body: JSON.stringify({ grants: [...(chosen.get(idOf(p)) ?? [])], digest: p.digest }),
          }),
        );
      }
      setDone(grantedText(results, review.pack));
      setReview(null);
      setFile(null);
      onInstalled();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    if (!review) return;
    setBusy(true);
    setError(null);
    try {
      await del(`/plugins/${enc(review.pack ? packId(review.pack) : idOf(review.plugins[0]))}`);
      setReview(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      onInstalled();
    }
  };
  const count = [...chosen.values()].reduce((n, s) => n + s.size, 0);
  return (
    <div className="card install">
      <h2>Install a plugin</h2>
      {!review && (
        <div className="row">
          <input type="file" accept=".wasm,application/wasm" aria-label="Plugin component (.wasm)" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          <button disabled={!file || busy} onClick={start}>
            Review permissions…
          </button>
        </div>
      )}
      {review && (
        <div data-testid="permission-review">
          {review.pack && (
            <p>
              Pack{' '}
              <strong>
                {review.pack.name}@{review.pack.version}
              </strong>
              : {review.pack.description}
            </p>
          )}
          <p>
            {review.pack
              ? `It holds ${review.plugins.length} plugins, each with the permissions it declares; grant each only what you trust it with. They are installed with nothing granted until you confirm (or cancel, which removes the whole pack).`
              : 'It declares these permissions; grant only what you trust it with. It is installed with nothing granted until you confirm (or cancel, which removes it).'}
          </p>
          {review.plugins.map((plugin) => {
            const id = idOf(plugin);
            const mine = chosen.get(id) ?? new Set<string>();
            return (
              <div key={id} className={review.pack ? 'pack-plugin' : undefined} data-testid={review.pack ? `review-${plugin.name}` : undefined}>
                {review.pack ? (
                  <h3>
                    {plugin.name} <span className="muted small">{plugin.version}</span> ({plugin.kind}): <span className="muted">{plugin.description}</span>
                  </h3>
                ) : (
                  <p className="review-head">
                    <strong>{id}</strong> ({plugin.kind}): {plugin.description}
                  </p>
                )}
                {(plugin.permissions ?? []).length === 0 && <p className="muted">It declares none.</p>}
                {(plugin.permissions ?? []).map((p) => (
                  <label key={p} className="check">
                    <input
                      type="checkbox"
                      checked={mine.has(p)}
                      onChange={(e) => {
                        const next = new Set(mine);
                        if (e.target.checked) next.add(p);
                        else next.delete(p);
                        setChosen(new Map(chosen).set(id, next));
                      }}
                    />
                    <code>{p}</code> — {explain(p)}
                  </label>
                ))}
              </div>
            );
          })}
          <div className="actions">
            <button className="primary" disabled={busy} onClick={grant}>
              Grant {count} and install
            </button>
            <button disabled={busy} onClick={cancel}>
              {review.pack ? 'Cancel (remove the pack)' : 'Cancel (remove it)'}
            </button>
          </div>
        </div>
      )}
      {done && <div className="notice">{done}</div>}
      <ErrorBox error={error} />
    </div>
  );
}

/** Who signed the component, as checked at install. */
function signerText(s: PluginRow['signer'] | undefined): string {
  switch (s?.status) {
    case 'bundled':
      return 'bundled with Sluice (trusted as the binary is)';
    case 'trusted':
      return `${s.key ?? ''} (trusted key ${s.fingerprint ?? ''})`;
    case 'untrusted':
      return `key ${s.fingerprint ?? ''}, not trusted`;
    default:
      return 'unsigned';
  }
}

/**
 * Removes an installed pack as a unit, after a confirmation naming each of its plugins (a
 * plugin of a pack is never removed alone: the service refuses it with PLUGIN_IN_PACK).
 * Resolves to whether it was removed.
 */
async function removePack(pack: Pack, plugins?: readonly PluginRow[]): Promise<boolean> {
  const members = plugins ?? (await get<PackInstalled>(`/plugins/${enc(packId(pack))}`)).plugins;
  const names = members.map((p) => p.name).join(', ');
  if (!window.confirm(`Remove the pack ${packId(pack)} and all its plugins (${names})?`)) return false;
  await del(`/plugins/${enc(packId(pack))}`);
  return true;
}

/** A plugin's page, or a pack's (its id names a pack: the service answers with its plugins). */
export function PluginPage({ id }: { id: string }) {
  const { data, error } = useLoad(() => get<PluginDetail | PackInstalled>(`/plugins/${enc(id)}`), [id]);
  if (error) return <div className="page"><ErrorBox error={error} /></div>;
  if (!data) return <div className="page">Loading…</div>;
  if ('plugins' in data) return <PackView pack={data.pack} plugins={data.plugins} />;
  return <PluginView data={data} />;
}

function PackView({ pack, plugins }: { pack: Pack; plugins: PluginRow[] }) {
  const [removeError, setRemoveError] = useState<unknown>(null);
  const bundled = plugins.some((p) => p.bundled);
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>
            Pack {pack.name} <span className="muted">{pack.version}</span>
          </h1>
          <div className="muted">{pack.description}</div>
        </div>
        {!bundled && (
          <div className="actions">
            <button
              className="danger"
              onClick={async () => {
                try {
                  if (await removePack(pack, plugins)) navigate('/plugins');
                } catch (e) {
                  setRemoveError(e instanceof ApiError ? e : new Error(String(e)));
                }
              }}
            >
              Remove pack
            </button>
          </div>
        )}
      </header>
      <ErrorBox error={removeError} />
      <p className="muted">
        {bundled ? 'Bundled with Sluice.' : 'Installed, signed and removed as a unit; each plugin is granted its permissions on its own.'}
      </p>
      <table className="table" data-testid="pack-plugins">
        <thead>
          <tr>
            <th>Plugin</th>
            <th>Kind</th>
            <th>Permissions (granted / declared)</th>
          </tr>
        </thead>
        <tbody>
          {plugins.map((p) => (
            <tr key={`${p.name}@${p.version}`}>
              <td>
                <Link to={`/plugins/${enc(`${p.name}@${p.version}`)}`} className="strong">
                  {p.name}
                </Link>
                <div className="muted small">{p.description}</div>
              </td>
              <td>{p.kind}</td>
              <td className="small">
                {(p.grants ?? []).join(', ') || 'none'} / {(p.permissions ?? []).join(', ') || 'none'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PluginView({ data }: { data: PluginDetail }) {
  const [removeError, setRemoveError] = useState<unknown>(null);
  const p = data.plugin;
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>
            {p.name} <span className="muted">{p.version}</span>
          </h1>
          <div className="muted">{p.description}</div>
        </div>
        {!p.bundled && (
          <div className="actions">
            {p.pack && <span className="muted small">Part of a pack: removed with it. </span>}
            <button
              className="danger"
              onClick={async () => {
                try {
                  if (p.pack) {
                    if (await removePack(p.pack)) navigate('/plugins');
                    return;
                  }
                  if (!window.confirm(`Remove ${p.name}@${p.version}?`)) return;
                  await del(`/plugins/${enc(`${p.name}@${p.version}`)}`);
                  navigate('/plugins');
                } catch (e) {
                  setRemoveError(e instanceof ApiError ? e : new Error(String(e)));
                }
              }}
            >
              {p.pack ? `Remove pack ${packId(p.pack)}` : 'Remove'}
            </button>
          </div>
        )}
      </header>
      <ErrorBox error={removeError} />
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{p.kind}</dd>
        <dt>Category</dt>
        <dd>{p.category ?? '—'}</dd>
        {p.pack && (
          <>
            <dt>Pack</dt>
            <dd>
              <Link to={`/plugins/${enc(packId(p.pack))}`}>{packId(p.pack)}</Link> — {p.pack.description}
            </dd>
          </>
        )}
        <dt>Source</dt>
        <dd>{p.bundled ? 'bundled with Sluice' : `installed ${String(p.installed_at ?? '')}`}</dd>
        <dt>Digest</dt>
        <dd>
          <code>{String(p.digest ?? '')}</code>
        </dd>
        <dt>Signer</dt>
        <dd>{signerText(p.signer)}</dd>
      </dl>
      <h2>Permissions</h2>
      <ul>
        {(p.permissions ?? []).map((x) => (
          <li key={x}>
            <code>{x}</code> — {explain(x)} — {(p.grants ?? []).includes(x) ? <strong>granted</strong> : <span className="bad">not granted</span>}
          </li>
        ))}
        {(p.permissions ?? []).length === 0 && <li className="muted">none declared</li>}
      </ul>
      <div className="cols">
        <section>
          <h2>Input schema</h2>
          <Json value={data.manifest.input_schema} />
        </section>
        <section>
          <h2>Output schema</h2>
          <Json value={data.manifest.output_schema} />
        </section>
      </div>
    </div>
  );
}
