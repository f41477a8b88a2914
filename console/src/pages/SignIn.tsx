import { useState, type FormEvent } from 'react';
import { ApiError, call } from '../api';
import { errorText } from '../util';

export function SignIn({ onSignIn, notice }: { onSignIn: (token: string) => void; notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setError(null);
    try {
      await call('/workflows', { token: t });
      onSignIn(t);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setError('This token was not accepted: it is wrong or has been revoked. Create one with `sluice token create --name NAME`.');
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="signin">
      <form onSubmit={submit} className="card">
        <h1>Sluice</h1>
        <p>Sign in with an admin API token. It is kept for this browser tab's session only.</p>
        {notice && <div className="notice">{notice}</div>}
        <label htmlFor="token">API token</label>
        <input id="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} placeholder="slk_…" autoFocus />
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy || !token.trim()}>
          Sign in
        </button>
      </form>
    </div>
  );
}
