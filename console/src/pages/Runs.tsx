// Execution history, overall or per workflow, paged as the API pages.
import { useState } from 'react';
import { enc, get } from '../api';
import { Link, navigate } from '../router';
import type { RunList } from '../types';
import { duration, ErrorBox, Status, useLoad, when } from '../util';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'partially_completed', 'cancelled'];

export function RunsPage({ workflow, status }: { workflow: string | null; status: string | null }) {
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const after = pages[pages.length - 1];
  const q = new URLSearchParams();
  if (workflow) q.set('workflow', workflow);
  if (status) q.set('status', status);
  q.set('limit', '50');
  if (after) q.set('after', after);
  const { data, error, reload } = useLoad(() => get<RunList>(`/runs?${q}`), [workflow, status, after]);
  const filter = (k: string, v: string) => {
    const p = new URLSearchParams(location.search);
    if (v) p.set(k, v);
    else p.delete(k);
    setPages([null]);
    navigate(`/runs${p.toString() ? `?${p}` : ''}`);
  };
  return (
    <div className="page">
      <header className="page-head">
        <h1>Runs{workflow ? ` of ${workflow}` : ''}</h1>
        <div className="actions">
          <button onClick={reload}>Refresh</button>
        </div>
      </header>
      <div className="filters">
        <input aria-label="Workflow" placeholder="Workflow" defaultValue={workflow ?? ''} onKeyDown={(e) => e.key === 'Enter' && filter('workflow', (e.target as HTMLInputElement).value.trim())} />
        <select aria-label="Status" value={status ?? ''} onChange={(e) => filter('status', e.target.value)}>
          <option value="">All statuses</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace(/_/g, ' ')}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={error} />
      {data && data.runs.length === 0 && <div className="empty">No runs.</div>}
      {data && data.runs.length > 0 && (
        <table className="table" data-testid="runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Trigger</th>
              <th>Started</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {data.runs.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/runs/${enc(r.id)}`}>
                    <code>{r.id}</code>
                  </Link>
                </td>
                <td>
                  <Link to={`/workflows/${enc(r.workflow)}`}>{r.workflow}</Link>
                </td>
                <td>
                  <Status status={r.status} />
                </td>
                <td>{r.trigger ?? '—'}</td>
                <td>{when(r.started_at)}</td>
                <td>{duration(r.started_at, r.finished_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="pager">
        <button disabled={pages.length <= 1} onClick={() => setPages((p) => p.slice(0, -1))}>
          Newer
        </button>
        <button disabled={!data?.next} onClick={() => setPages((p) => [...p, data!.next])}>
          Older
        </button>
      </div>
    </div>
  );
}
