// External App Connectors: list, add (the credential is write-only and never shown
// again), remove.
import { useState, type FormEvent } from 'react';
import { del, enc, get, post } from '../api';
import type { ConnectorList } from '../types';
import { ErrorBox, useLoad, when } from '../util';

export function ConnectorsPage() {
  const { data, error, reload } = useLoad(() => get<ConnectorList>('/connectors'), []);
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Connectors</h1>
      </header>
      <ErrorBox error={error ?? actionError} />
      <table className="table" data-testid="connectors">
        <thead>
          <tr>
            <th>Name</th>
            <th>Base URL</th>
            <th>Auth</th>
            <th>Credential</th>
            <th>Allowed hosts</th>
            <th>Added</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(data?.connectors ?? []).map((c) => (
            <tr key={c.name} data-testid={`connector-${c.name}`}>
              <td className="strong">{c.name}</td>
              <td>
                <code>{c.base_url}</code>
              </td>
              <td>
                {c.auth.type}
                {'header' in c.auth ? ` (${c.auth.header})` : ''}
                {'user' in c.auth ? ` (${c.auth.user})` : ''}
              </td>
              <td>{c.credential}</td>
              <td>{(c.allow_hosts ?? []).join(', ') || '—'}</td>
              <td>{when(c.created_at)}</td>
              <td>
                <button
                  className="small danger"
                  onClick={async () => {
                    if (!window.confirm(`Remove connector ${c.name} and its credential?`)) return;
                    try {
                      await del(`/connectors/${enc(c.name)}`);
                      reload();
                    } catch (e) {
                      setActionError(e);
                    }
                  }}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.connectors.length === 0 && <div className="empty">No connectors yet.</div>}
      <AddConnector onAdded={reload} />
    </div>
  );
}

function AddConnector({ onAdded }: { onAdded: () => void }) {
  const [name, setName] = useState('');
  const [baseUrl, setBaseUrl] = useState('https://');
  const [auth, setAuth] = useState('bearer');
  const [header, setHeader] = useState('X-Api-Key');
  const [user, setUser] = useState('');
  const [secret, setSecret] = useState('');
  const [headers, setHeaders] = useState('');
  const [hosts, setHosts] = useState('');
  const [allowHttp, setAllowHttp] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    const authBody = auth === 'header' ? { type: 'header', header } : auth === 'basic' ? { type: 'basic', user } : { type: auth };
    const hdrs: Record<string, string> = {};
    for (const line of headers.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) hdrs[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    try {
      await post('/connectors', {
        name,
        base_url: baseUrl,
        auth: authBody,
        headers: hdrs,
        allow_hosts: hosts.split(',').map((h) => h.trim()).filter(Boolean),
        allow_http: allowHttp,
        ...(auth === 'none' ? {} : { secret }),
      });
      // The credential leaves the page once sent: it is never shown again.
      setSecret('');
      setDone(`Connector ${name} added. Its credential is sealed and will not be shown again.`);
      setName('');
      onAdded();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="card" onSubmit={submit} data-testid="add-connector">
      <h2>Add a connector</h2>
      <div className="grid2">
        <div className="field">
          <label htmlFor="c-name">Name</label>
          <input id="c-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="jira" />
        </div>
        <div className="field">
          <label htmlFor="c-url">Base URL</label>
          <input id="c-url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="c-auth">Authentication</label>
          <select id="c-auth" value={auth} onChange={(e) => setAuth(e.target.value)}>
            <option value="none">none</option>
            <option value="bearer">bearer token</option>
            <option value="header">secret in a header</option>
            <option value="basic">basic (user + secret)</option>
            <option value="path">secret in the URL path</option>
          </select>
        </div>
        {auth === 'header' && (
          <div className="field">
            <label htmlFor="c-header">Header</label>
            <input id="c-header" value={header} onChange={(e) => setHeader(e.target.value)} />
          </div>
        )}
        {auth === 'basic' && (
          <div className="field">
            <label htmlFor="c-user">User</label>
            <input id="c-user" value={user} onChange={(e) => setUser(e.target.value)} />
          </div>
        )}
        {auth !== 'none' && (
          <div className="field">
            <label htmlFor="c-secret">Secret (write-only)</label>
            <input id="c-secret" type="password" autoComplete="new-password" value={secret} onChange={(e) => setSecret(e.target.value)} />
          </div>
        )}
        <div className="field">
          <label htmlFor="c-headers">Default headers (one `Name: value` a line)</label>
          <textarea id="c-headers" rows={2} value={headers} onChange={(e) => setHeaders(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="c-hosts">Other allowed hosts (comma-separated)</label>
          <input id="c-hosts" value={hosts} onChange={(e) => setHosts(e.target.value)} />
        </div>
        <div className="field field-check">
          <input id="c-http" type="checkbox" checked={allowHttp} onChange={(e) => setAllowHttp(e.target.checked)} />
          <label htmlFor="c-http">Allow plain http</label>
        </div>
      </div>
      <div className="actions">
        <button className="primary" type="submit" disabled={!name}>
          Add connector
        </button>
      </div>
      {done && <div className="notice">{done}</div>}
      <ErrorBox error={error} />
    </form>
  );
}
