// Admin API tokens: list, create (shown once), revoke.
import { useState, type FormEvent } from 'react';
import { del, enc, get, post } from '../api';
import type { TokenCreated, TokenList } from '../types';
import { ErrorBox, useLoad, when } from '../util';

export function TokensPage() {
  const { data, error, reload } = useLoad(() => get<TokenList>('/tokens'), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await post<TokenCreated>('/tokens', { name });
      setCreated(r.token);
      setName('');
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  return (
    <div className="page">
      <h1>API tokens</h1>
      <ErrorBox error={error ?? actionError} />
      <table className="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Prefix</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(data?.tokens ?? []).map((t) => (
            <tr key={t.name}>
              <td>{t.name}</td>
              <td>
                <code>{t.hint}</code>
              </td>
              <td>{when(t.created_at)}</td>
              <td>
                <button
                  className="small danger"
                  onClick={async () => {
                    if (!window.confirm(`Revoke ${t.name}? Anything using it stops working.`)) return;
                    try {
                      await del(`/tokens/${enc(t.name)}`);
                      reload();
                    } catch (err) {
                      setActionError(err);
                    }
                  }}
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="card row" onSubmit={create}>
        <input aria-label="Token name" placeholder="name" value={name} onChange={(e) => setName(e.target.value)} />
        <button className="primary" disabled={!name}>
          Create token
        </button>
      </form>
      {created && (
        <div className="notice">
          New token (shown once; copy it now): <code>{created}</code>
        </div>
      )}
    </div>
  );
}
