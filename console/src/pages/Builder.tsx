// The builder: the graph derived from the document beside the YAML editor, both editing
// the same text. Every edit from the graph's panels is applied to the text in place (see
// doc.ts); validation and the graph follow the text as it is typed. Save goes through the
// API, which refuses a broken workflow with every problem.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, call, enc, get, post } from '../api';
import { EditError, insertStep, moveStep, nodePath, parse, readValue, removeKey, removeStep, setValue, stepPaths, type Path } from '../doc';
import { GraphView } from '../graph/GraphView';
import { navigate, setLeaveGuard, Link } from '../router';
import { JsonField, SchemaForm } from '../SchemaForm';
import { explain, groupByCategory, matchesSearch, needs } from '../plugins';
import type { Graph, JsonSchema, PinState, PluginList, PluginRow, Problem, TemplateDetail, ValidationReport, Version, VersionDetail, VersionList, WorkflowDetail } from '../types';
import { ErrorBox, errorText, when } from '../util';
import { problemRange, YamlEditor } from '../YamlEditor';
import { DRAFT_KEY } from './NewWorkflow';

const ROLES = ['Read Only', 'Help Desk', 'Manager', 'Administrator', 'Administrator With Billing', 'Billing Only', 'Command Runner', 'Command Runner With Billing'];

interface Loaded {
  text: string;
  stored: boolean;
  version?: number;
  /** The saved version's plugin pins, with whether each has an update. */
  pins?: PinState[];
}

/** "update available" when a plugin the saved version pins has a newer version or component. */
function UpdateBadge({ pins }: { pins?: PinState[] }) {
  const updates = (pins ?? []).filter((p) => p.update_available);
  if (updates.length === 0) return null;
  const title = updates
    .map((p) => `${p.uses}: pinned ${p.name}@${p.version}${p.latest ? `, now ${p.latest.version} (sha256 ${p.latest.digest.slice(0, 12)}…)` : ''}`)
    .join('\n');
  return (
    <span className="badge update" data-testid="update-available" title={`${title}\nSave the workflow again to use it.`}>
      update available
    </span>
  );
}

async function load(name: string | null, template: string | null): Promise<Loaded> {
  if (name) {
    const w = await get<WorkflowDetail>(`/workflows/${enc(name)}`);
    const v = await get<VersionDetail>(`/workflows/${enc(name)}/versions/${w.version}`);
    return { text: v.source, stored: true, version: w.version, pins: w.pins };
  }
  if (template) {
    const t = await get<TemplateDetail>(`/templates/${enc(template)}`);
    return { text: t.source, stored: false };
  }
  const draft = sessionStorage.getItem(DRAFT_KEY);
  if (!draft) throw new Error('No draft to open: start from New workflow or a template.');
  return { text: draft, stored: false };
}

/** What the page reopened after a first save shows (the save's message survives the move). */
let flash: { ok: string; secret?: string } | null = null;

export function BuilderPage({ name, template }: { name: string | null; template: string | null }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [checking, setChecking] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [focus, setFocus] = useState<{ at: number; n: number } | null>(null);
  const [editError, setEditError] = useState<string | null>(null);
  const [save, setSave] = useState<{ busy?: boolean; error?: unknown; refused?: Problem[]; ok?: string; secret?: string } | null>(() => flash);
  useEffect(() => {
    flash = null;
  }, []);
  const [notice, setNotice] = useState<string | null>(null);
  const [versionsOpen, setVersionsOpen] = useState(false);

  useEffect(() => {
    load(name, template)
      .then((l) => {
        setLoaded(l);
        setText(l.text);
        // A template or a draft is not saved yet: it counts as a change.
        setSaved(l.stored ? l.text : null);
      })
      .catch(setLoadError);
  }, [name, template]);

  const dirty = saved === null || text !== saved;
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useEffect(() => {
    setLeaveGuard(() => dirtyRef.current);
    const before = (e: BeforeUnloadEvent) => {
      if (dirtyRef.current) e.preventDefault();
    };
    window.addEventListener('beforeunload', before);
    return () => {
      setLeaveGuard(null);
      window.removeEventListener('beforeunload', before);
    };
  }, []);

  // Validation and the graph follow the text (debounced; stale answers dropped).
  const seq = useRef(0);
  useEffect(() => {
    if (!loaded) return;
    const n = ++seq.current;
    setChecking(true);
    const t = setTimeout(() => {
      // The graph is quick; validation may first compile the plugins it resolves.
      post<Graph>('/graph', text, 'application/yaml')
        .then((g) => n === seq.current && setGraph(g))
        .catch(() => {
          /* a document that does not parse keeps the last graph */
        });
      post<ValidationReport>('/validate', text, 'application/yaml')
        .then((r) => n === seq.current && setReport(r))
        .catch(() => {
          /* shown by the next answer */
        })
        .finally(() => n === seq.current && setChecking(false));
    }, 250);
    return () => clearTimeout(t);
  }, [text, loaded]);

  const edit = useCallback((f: (t: string) => string) => {
    setText((t) => {
      try {
        const next = f(t);
        setEditError(null);
        return next;
      } catch (e) {
        setEditError(e instanceof EditError ? e.message : errorText(e));
        return t;
      }
    });
  }, []);

  const problems = report?.problems ?? [];
  const byNode = useMemo(() => {
    const m = new Map<string, number>();
    for (const p of problems) {
      const id = p.node ?? (p.location.startsWith('trigger') ? 'trigger' : null);
      if (id) m.set(id, (m.get(id) ?? 0) + 1);
    }
    return m;
  }, [problems]);

  const docName = (report?.name ?? (readSafe(text, ['name']) as string | undefined)) || name || '';

  const doSave = async () => {
    setSave({ busy: true });
    try {
      const out = loaded?.stored
        ? await call<WorkflowDetail>(`/workflows/${enc(name!)}`, { method: 'PUT', body: text, contentType: 'application/yaml' })
        : await post<WorkflowDetail>('/workflows', text, 'application/yaml');
      setSaved(text);
      dirtyRef.current = false;
      setSave({ ok: `Saved version ${out.version}.`, secret: out.webhook_secret });
      if (!loaded?.stored) {
        sessionStorage.removeItem(DRAFT_KEY);
        flash = { ok: `Saved version ${out.version}.`, secret: out.webhook_secret };
        navigate(`/workflows/${enc(docName)}`, true);
      } else {
        setLoaded({ ...loaded, version: out.version, pins: out.pins });
      }
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'WORKFLOW_INVALID' || e.code === 'WORKFLOW_PARSE_ERROR')) {
        // Every problem, with its line: the validation report of this very text.
        let listed: Problem[] = [];
        try {
          const r = await post<ValidationReport>('/validate', text, 'application/yaml');
          setReport(r);
          listed = r.problems;
        } catch {
          listed = ((e.details as { problems?: Problem[] } | undefined)?.problems ?? []) as Problem[];
        }
        setSave({ refused: listed, error: e });
      } else {
        setSave({ error: e });
      }
    }
  };

  const goTo = (p: Problem) => {
    if (p.node) setSelected(p.node);
    const r = problemRange(text, p);
    setFocus({ at: r.from, n: Date.now() });
  };

  if (loadError) {
    return (
      <div className="page">
        <ErrorBox error={loadError} />
      </div>
    );
  }
  if (!loaded) return <div className="page">Loading…</div>;

  const selPath = selected && selected !== 'trigger' && !selected.includes('/') ? nodePath(selected) : null;

  return (
    <div className="builder">
      <header className="builder-head">
        <div>
          <h1>
            {docName || 'New workflow'} {loaded.stored && <span className="muted small">version {loaded.version}</span>} {loaded.stored && <UpdateBadge pins={loaded.pins} />}
          </h1>
          <div className="small">
            {dirty ? (
              <span className="unsaved" data-testid="unsaved">
                Unsaved changes
              </span>
            ) : (
              <span className="muted">Saved</span>
            )}
            {checking ? <span className="muted"> · checking…</span> : report && (report.valid ? <span className="ok"> · valid</span> : <span className="bad"> · {problems.length} problem{problems.length === 1 ? '' : 's'}</span>)}
          </div>
        </div>
        <RunAs report={report} onUse={(role) => edit((t) => setValue(t, ['run_as'], role))} />
        <div className="actions">
          {loaded.stored && <button onClick={() => setVersionsOpen((v) => !v)}>Versions</button>}
          {loaded.stored && (
            <button onClick={() => navigate(`/workflows/${enc(name!)}/run`)} disabled={dirty}>
              Run…
            </button>
          )}
          <button className="primary" onClick={doSave} disabled={save?.busy || !dirty} data-testid="save">
            {save?.busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </header>
      {save?.ok && (
        <div className="notice" role="status">
          {save.ok} {save.secret && <>Webhook signing secret (shown once): <code>{save.secret}</code></>}
        </div>
      )}
      {save?.refused && (
        <div className="error" role="alert" data-testid="save-refused">
          Save refused: the workflow has {save.refused.length} problem{save.refused.length === 1 ? '' : 's'}; nothing was saved. Each is listed below, on its node and at its line.
        </div>
      )}
      {save?.error !== undefined && !save.refused && <ErrorBox error={save.error} />}
      {notice && <div className="notice">{notice}</div>}
      {editError && <div className="error">{editError}</div>}
      {versionsOpen && name && (
        <Versions
          name={name}
          onLoad={(v, source) => {
            setText(source);
            setNotice(`Version ${v} is in the editor. Save to restore it as a new version.`);
            setVersionsOpen(false);
          }}
        />
      )}
      <div className="builder-body">
        <section className="builder-graph">
          {graph ? <GraphView graph={graph} problems={byNode} selected={selected} onSelect={setSelected} /> : <div className="muted pad">Drawing…</div>}
          <aside className="panel" data-testid="panel">
            {selected === 'trigger' ? (
              <TriggerPanel text={text} edit={edit} onAddFirst={() => edit((t) => insertStep(t, ['steps'], 0, newStep(t)))} />
            ) : selPath && readSafe(text, selPath) !== undefined ? (
              <StepPanel key={selected!} text={text} path={selPath} edit={edit} onSelect={setSelected} problems={problems.filter((p) => p.node === selected)} />
            ) : (
              <SettingsPanel text={text} edit={edit} stored={loaded.stored} />
            )}
          </aside>
        </section>
        <section className="builder-yaml">
          <YamlEditor value={text} onChange={setText} problems={problems} focus={focus} />
        </section>
      </div>
      <section className="problems" data-testid="problems">
        {problems.length === 0 ? (
          report && <div className="ok small">No problems: this workflow can be saved.</div>
        ) : (
          <ul>
            {problems.map((p, i) => (
              <li key={i}>
                <button className="link" onClick={() => goTo(p)}>
                  {p.line ? `line ${p.line}` : p.location}
                </button>{' '}
                <span className="muted">{p.location}</span>: {p.message}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function readSafe(text: string, path: Path): unknown {
  try {
    return readValue(text, path);
  } catch {
    return undefined;
  }
}

function newStep(text: string): Record<string, unknown> {
  const ids = new Set(stepPaths(parse(text).toJSON()).map((s) => String(s.step.id)));
  let n = 1;
  while (ids.has(`step_${n}`)) n++;
  return { id: `step_${n}`, uses: 'transform', with: { value: '${input}' } };
}

function RunAs({ report, onUse }: { report: ValidationReport | null; onUse: (role: string) => void }) {
  if (!report?.run_as) return <div />;
  return (
    <div className="runas small" data-testid="run-as">
      Runs as <strong>{report.run_as}</strong>
      {report.narrowest_role && (
        <>
          {' '}
          · narrowest role: <strong>{report.narrowest_role}</strong>
        </>
      )}
      {report.broader_than_needed && report.narrowest_role && (
        <div className="warn">
          {report.run_as} grants more than this workflow needs.{' '}
          <button className="link" onClick={() => onUse(report.narrowest_role!)}>
            Use {report.narrowest_role}
          </button>
        </div>
      )}
    </div>
  );
}

function Versions({ name, onLoad }: { name: string; onLoad: (v: number, source: string) => void }) {
  const [list, setList] = useState<Version[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [view, setView] = useState<{ v: number; source: string } | null>(null);
  useEffect(() => {
    get<VersionList>(`/workflows/${enc(name)}/versions`)
      .then((r) => setList([...r.versions].reverse()))
      .catch(setError);
  }, [name]);
  const open = async (v: number) => {
    const r = await get<VersionDetail>(`/workflows/${enc(name)}/versions/${v}`);
    setView({ v, source: r.source });
  };
  return (
    <div className="versions card" data-testid="versions">
      <ErrorBox error={error} />
      <table className="table compact">
        <tbody>
          {(list ?? []).map((v) => (
            <tr key={v.version}>
              <td>version {v.version}</td>
              <td>{when(v.created_at)}</td>
              <td>{v.created_by}</td>
              <td>
                <button className="small" onClick={() => open(v.version)}>
                  View
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {view && (
        <div>
          <pre className="json">{view.source}</pre>
          <button onClick={() => onLoad(view.v, view.source)}>Restore version {view.v} into the editor</button>
        </div>
      )}
    </div>
  );
}

type Edit = (f: (t: string) => string) => void;

/** Sets (or, when empty, removes) the field at `path`. */
function setOrRemove(edit: Edit, path: Path, v: unknown) {
  edit((t) => (v === undefined || v === '' ? removeKey(t, path) : setValue(t, path, v)));
}

function TextField({ label, value, onChange, placeholder, id }: { label: string; value: unknown; onChange: (v: string) => void; placeholder?: string; id: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value)} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

function SettingsPanel({ text, edit, stored }: { text: string; edit: Edit; stored: boolean }) {
  const vars = (readSafe(text, ['vars']) ?? {}) as Record<string, unknown>;
  const schema: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [
        k,
        Array.isArray(v) && v.every((x) => typeof x !== 'object') ? { type: 'array', items: { type: 'string' } } : typeof v === 'object' && v !== null ? { type: 'object' } : { type: typeof v === 'number' ? 'number' : 'string' },
      ]),
    ),
  };
  return (
    <div>
      <h2>Workflow</h2>
      <p className="muted small">Select a node to edit its step. Everything here edits the YAML in place.</p>
      <TextField id="wf-name" label="Name" value={readSafe(text, ['name'])} onChange={(v) => setOrRemove(edit, ['name'], v)} />
      {stored && <div className="help">The name of a saved workflow cannot change.</div>}
      <TextField id="wf-description" label="Description" value={readSafe(text, ['description'])} onChange={(v) => setOrRemove(edit, ['description'], v)} />
      <div className="field">
        <label htmlFor="wf-runas">Run as</label>
        <select id="wf-runas" value={String(readSafe(text, ['run_as']) ?? '')} onChange={(e) => edit((t) => setValue(t, ['run_as'], e.target.value))}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </div>
      {Object.keys(vars).length > 0 && (
        <>
          <h3>Variables</h3>
          <div data-testid="vars">
            <SchemaForm schema={schema} value={vars} mode="step" idPrefix="var" onField={(p, v) => setOrRemove(edit, ['vars', ...p], v)} />
          </div>
        </>
      )}
    </div>
  );
}

function TriggerPanel({ text, edit, onAddFirst }: { text: string; edit: Edit; onAddFirst: () => void }) {
  const trig = (readSafe(text, ['trigger']) ?? {}) as Record<string, unknown>;
  const f = (k: string, label: string, placeholder?: string) => <TextField id={`trigger-${k}`} label={label} value={trig[k]} placeholder={placeholder} onChange={(v) => setOrRemove(edit, ['trigger', k], v)} />;
  return (
    <div>
      <h2>Trigger: {String(trig.type ?? '?')}</h2>
      {trig.type === 'schedule' && (
        <>
          {f('cron', 'Cron (with seconds)', '0 0 9 * * Mon-Fri')}
          {f('timezone', 'Timezone', 'UTC')}
          <div className="field">
            <label htmlFor="trigger-misfire">Missed fires</label>
            <select id="trigger-misfire" value={String(trig.misfire ?? 'skip')} onChange={(e) => edit((t) => setValue(t, ['trigger', 'misfire'], e.target.value))}>
              <option value="skip">skip</option>
              <option value="run_once">run once</option>
            </select>
          </div>
        </>
      )}
      {trig.type === 'event' && (
        <>
          {f('event_type', 'Event type', 'user_create')}
          {f('condition', 'Condition (template)', "{{ input.resource.username is startingwith('svc-') }}")}
        </>
      )}
      {trig.type === 'webhook' && (
        <div className="field field-check">
          <input id="trigger-respond" type="checkbox" checked={trig.respond_with_output === true} onChange={(e) => edit((t) => setValue(t, ['trigger', 'respond_with_output'], e.target.checked))} />
          <label htmlFor="trigger-respond">Answer with the run's output</label>
        </div>
      )}
      {trig.type === 'manual' && (
        <>
          <h3>Input schema</h3>
          <p className="help">The run form is generated from it; edit it in the YAML.</p>
          <pre className="json">{JSON.stringify(trig.input_schema ?? {}, null, 2)}</pre>
        </>
      )}
      <button onClick={onAddFirst}>Add a step first</button>
    </div>
  );
}

const pluginCache = new Map<string, Promise<{ plugin: PluginRow; manifest: { input_schema?: JsonSchema; permissions?: string[]; description?: string } }>>();
function pluginDetail(spec: string) {
  let p = pluginCache.get(spec);
  if (!p) {
    p = get(`/plugins/${enc(spec)}`);
    p.catch(() => pluginCache.delete(spec));
    pluginCache.set(spec, p);
  }
  return p;
}

let pluginList: Promise<PluginList> | null = null;
function usePlugins(): PluginList {
  const [list, setList] = useState<PluginList>({ plugins: [], categories: [] });
  useEffect(() => {
    pluginList ??= get<PluginList>('/plugins');
    pluginList.then(setList).catch(() => (pluginList = null));
  }, []);
  return list;
}

/**
 * The plugin a step uses: the current one with its description and what it needs, and a
 * list of the plugins of `kinds` grouped by category (searchable), each with its
 * description and permissions.
 */
function PluginPicker({ value, kinds, onChange, id }: { value: string; kinds: string[]; onChange: (v: string) => void; id: string }) {
  const { plugins, categories } = usePlugins();
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState('');
  const [name, pinned] = value.split('@');
  const isCurrent = (p: PluginRow) => p.name === name && (pinned === undefined || p.version === pinned);
  const chosen = plugins.find(isCurrent) ?? plugins.find((p) => p.name === name);
  const groups = groupByCategory(
    plugins.filter((p) => kinds.includes(p.kind) && matchesSearch(p, search)),
    categories ?? [],
  );
  const pick = (p: PluginRow) => {
    // A name alone means its newest version; one of several installed versions is pinned.
    const several = plugins.filter((q) => q.name === p.name).length > 1;
    onChange(several ? `${p.name}@${p.version}` : pinned !== undefined && p.name === name ? value : p.name);
    setOpen(false);
    setSearch('');
  };
  return (
    <div className="field plugin-picker">
      <label htmlFor={id}>Plugin</label>
      <button type="button" id={id} className="picker-current" aria-expanded={open} aria-controls={`${id}-list`} onClick={() => setOpen(!open)}>
        <code>{value || '—'}</code>
        {chosen?.category && <span className="muted small">{chosen.category}</span>}
        <span className="muted small">{open ? 'Close' : 'Change…'}</span>
      </button>
      {chosen && (
        <div className="help">
          {chosen.description}
          <br />
          Needs: {(chosen.permissions ?? []).length ? (chosen.permissions ?? []).map((x) => `${x} (${explain(x)})`).join('; ') : 'no permissions'}
        </div>
      )}
      {open && (
        <div className="picker" id={`${id}-list`} data-testid="plugin-picker" onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          <input type="search" aria-label="Search plugins" placeholder="Search plugins" value={search} onChange={(e) => setSearch(e.target.value)} autoFocus />
          {groups.length === 0 && <div className="empty">No plugin matches.</div>}
          {groups.map((g) => (
            <section key={g.category} aria-label={g.category} className="picker-group">
              <h4>
                {g.category} <span className="muted small">({g.plugins.length})</span>
              </h4>
              <ul>
                {g.plugins.map((p) => (
                  <li key={`${p.name}@${p.version}`}>
                    <button type="button" className="picker-option" aria-pressed={isCurrent(p)} onClick={() => pick(p)}>
                      <span>
                        <strong>{p.name}</strong> <span className="muted small">{p.version}</span>
                        {kinds.length > 1 && p.kind !== kinds[0] && <span className="badge">{p.kind}</span>}
                      </span>
                      <span className="small">{p.description}</span>
                      <span className="small muted" title={(p.permissions ?? []).map((x) => `${x}: ${explain(x)}`).join('\n')}>
                        Needs: {needs(p)}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </div>
  );
}

function WithForm({ spec, value, path, edit }: { spec: string; value: unknown; path: Path; edit: Edit }) {
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setSchema(null);
    setError(null);
    if (!spec) return;
    pluginDetail(spec)
      .then((d) => setSchema(d.manifest.input_schema ?? {}))
      .catch(setError);
  }, [spec]);
  if (error) return <ErrorBox error={error} />;
  if (!schema) return null;
  if (typeof value === 'string' || Array.isArray(value) || !schema.properties) {
    return (
      <div className="field">
        <label htmlFor="with-json">Input (with)</label>
        <JsonField key={spec} id="with-json" label="with" value={value} onChange={(v) => setOrRemove(edit, path, v)} />
      </div>
    );
  }
  return (
    <fieldset className="field-object">
      <legend>Input (with)</legend>
      <SchemaForm schema={schema} value={value} mode="step" idPrefix="with" onField={(p, v) => setOrRemove(edit, [...path, ...p], v)} />
    </fieldset>
  );
}

function StepPanel({ text, path, edit, onSelect, problems }: { text: string; path: Path; edit: Edit; onSelect: (id: string | null) => void; problems: Problem[] }) {
  const step = (readSafe(text, path) ?? {}) as Record<string, unknown>;
  const seqPath = path.slice(0, -1);
  const index = path[path.length - 1] as number;
  const siblings = (readSafe(text, seqPath) as unknown[] | undefined)?.length ?? 0;
  const f = (k: string, label: string, placeholder?: string) => <TextField id={`step-${k}`} label={label} value={step[k]} placeholder={placeholder} onChange={(v) => setOrRemove(edit, [...path, k], v)} />;
  const retry = (step.retry ?? {}) as Record<string, unknown>;
  const kind = step.if ? 'if' : step.for_each !== undefined ? 'for_each' : step.parallel ? 'parallel' : step.workflow ? 'workflow' : step.connector ? 'connector' : 'action';
  const idOf = (p: Path) => p.join('.');
  return (
    <div data-testid="step-panel">
      <h2>
        Step <code>{String(step.id ?? '')}</code> <span className="muted small">{kind}</span>
      </h2>
      {problems.map((p, i) => (
        <div key={i} className="error small">
          {p.message}
        </div>
      ))}
      <div className="step-actions">
        <button className="small" disabled={index === 0} onClick={() => (edit((t) => moveStep(t, seqPath, index, index - 1)), onSelect(idOf([...seqPath, index - 1])))}>
          Move up
        </button>
        <button className="small" disabled={index >= siblings - 1} onClick={() => (edit((t) => moveStep(t, seqPath, index, index + 1)), onSelect(idOf([...seqPath, index + 1])))}>
          Move down
        </button>
        <button className="small" onClick={() => (edit((t) => insertStep(t, seqPath, index + 1, newStep(t))), onSelect(idOf([...seqPath, index + 1])))}>
          Add step after
        </button>
        <button className="small danger" disabled={siblings <= 1} onClick={() => (edit((t) => removeStep(t, seqPath, index)), onSelect(null))}>
          Remove
        </button>
      </div>
      {f('id', 'Id')}
      {f('name', 'Name')}
      {kind === 'action' && (
        <>
          <PluginPicker id="step-uses" value={String(step.uses ?? '')} kinds={['action', 'connector']} onChange={(v) => edit((t) => setValue(t, [...path, 'uses'], v))} />
          <WithForm spec={String(step.uses ?? '')} value={step.with} path={[...path, 'with']} edit={edit} />
        </>
      )}
      {kind === 'if' && (
        <>
          <PluginPicker id="step-if" value={String((step.if as Record<string, unknown>).uses ?? '')} kinds={['condition']} onChange={(v) => edit((t) => setValue(t, [...path, 'if', 'uses'], v))} />
          <WithForm spec={String((step.if as Record<string, unknown>).uses ?? '')} value={(step.if as Record<string, unknown>).with} path={[...path, 'if', 'with']} edit={edit} />
        </>
      )}
      {kind === 'for_each' && (
        <>
          {f('for_each', 'For each (a list or template)', '${input.users}')}
          {f('item', 'Item name', 'item')}
          {f('concurrency', 'At a time')}
        </>
      )}
      {kind === 'workflow' && f('workflow', 'Sub-workflow')}
      {kind === 'connector' && (
        <>
          {f('connector', 'Connector')}
          <div className="field">
            <label htmlFor="step-method">Method</label>
            <select id="step-method" value={String(step.method ?? 'GET')} onChange={(e) => edit((t) => setValue(t, [...path, 'method'], e.target.value))}>
              {['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </div>
          {f('path', 'Path', '/relative/path')}
        </>
      )}
      <h3>Behaviour</h3>
      {f('when', 'Run only when (template)', '{{ input.enabled }}')}
      {f('timeout', 'Timeout', '30s')}
      <div className="row2">
        <TextField id="step-retry-attempts" label="Retry attempts" value={retry.attempts} onChange={(v) => (v === '' ? setOrRemove(edit, [...path, 'retry'], undefined) : setOrRemove(edit, [...path, 'retry', 'attempts'], Number.isFinite(Number(v)) ? Number(v) : v))} />
        <TextField id="step-retry-backoff" label="Backoff" value={retry.backoff} placeholder="1s" onChange={(v) => setOrRemove(edit, [...path, 'retry', 'backoff'], v)} />
      </div>
      <div className="field">
        <label htmlFor="step-onerror">On error</label>
        {Array.isArray(step.on_error) ? (
          <div className="help">Handler steps (shown in the graph; edit them there or in the YAML).</div>
        ) : (
          <select id="step-onerror" value={String(step.on_error ?? '')} onChange={(e) => setOrRemove(edit, [...path, 'on_error'], e.target.value)}>
            <option value="">fail (default)</option>
            <option value="fail">fail</option>
            <option value="continue">continue</option>
          </select>
        )}
      </div>
      {f('remediation', 'Remediation (shown in the failure report)')}
      <p className="help">
        <Link to="/plugins">Plugins</Link> lists what each plugin may do.
      </p>
    </div>
  );
}
