// The overview: every workflow with its trigger, run-as role, last run and the enable
// toggle; search and filter; new workflow or template.
import { useState } from 'react';
import { enc, get, post } from '../api';
import { Link, navigate } from '../router';
import type { WorkflowList, WorkflowRow } from '../types';
import { ErrorBox, Status, useLoad, when } from '../util';

function triggerText(w: WorkflowRow): string {
  const t = w.trigger_type ?? w.trigger.split(' ')[0];
  if (t === 'schedule') return w.next_fire ? `${w.trigger} · next ${when(w.next_fire)}` : w.trigger;
  return w.trigger;
}

export function WorkflowsPage() {
  const { data, error, reload } = useLoad(() => get<WorkflowList>('/workflows'), []);
  const [search, setSearch] = useState('');
  const [kind, setKind] = useState('');
  const [toggleError, setToggleError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const rows = (data?.workflows ?? []).filter((w) => {
    const q = search.trim().toLowerCase();
    const t = w.trigger_type ?? w.trigger.split(' ')[0];
    return (!q || w.name.toLowerCase().includes(q) || (w.description ?? '').toLowerCase().includes(q)) && (!kind || t === kind);
  });
  const toggle = async (w: WorkflowRow) => {
    setBusy(w.name);
    setToggleError(null);
    try {
      await post(`/workflows/${enc(w.name)}/${w.enabled ? 'disable' : 'enable'}`);
      reload();
    } catch (e) {
      setToggleError(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="page">
      <header className="page-head">
        <h1>Workflows</h1>
        <div className="actions">
          <button className="primary" onClick={() => navigate('/workflows/new')}>
            New workflow
          </button>
          <button onClick={() => navigate('/templates')}>Use template</button>
        </div>
      </header>
      <div className="filters">
        <input type="search" placeholder="Search workflows" aria-label="Search workflows" value={search} onChange={(e) => setSearch(e.target.value)} />
        <select aria-label="Trigger type" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">All triggers</option>
          <option value="manual">Manual</option>
          <option value="schedule">Schedule</option>
          <option value="event">Event</option>
          <option value="webhook">Webhook</option>
        </select>
      </div>
      <ErrorBox error={error ?? toggleError} />
      {data && data.workflows.length === 0 && (
        <div className="empty">
          No workflows yet. Start from a <Link to="/templates">template</Link> or create a <Link to="/workflows/new">new workflow</Link>.
        </div>
      )}
      {rows.length > 0 && (
        <table className="table" data-testid="workflows">
          <thead>
            <tr>
              <th>Name</th>
              <th>Trigger</th>
              <th>Run as</th>
              <th>Last run</th>
              <th>Enabled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((w) => (
              <tr key={w.name} data-testid={`workflow-${w.name}`}>
                <td>
                  <Link to={`/workflows/${enc(w.name)}`} className="strong">
                    {w.name}
                  </Link>
                  {w.update_available && (
                    <>
                      {' '}
                      <span className="badge update" title="A plugin this workflow pins has a newer version or component; save the workflow again to use it">
                        update available
                      </span>
                    </>
                  )}
                  <div className="muted small">{w.description}</div>
                </td>
                <td>{triggerText(w)}</td>
                <td>{w.run_as ?? '—'}</td>
                <td>
                  {w.last_run ? (
                    <Link to={`/runs/${enc(w.last_run.id)}`}>
                      <Status status={w.last_run.status} /> <span className="small muted">{when(w.last_run.started_at)}</span>
                    </Link>
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td>
                  <label className="switch">
                    <input type="checkbox" role="switch" aria-label={`Enable ${w.name}`} checked={w.enabled} disabled={busy === w.name} onChange={() => toggle(w)} />
                    <span>{w.enabled ? 'On' : 'Off'}</span>
                  </label>
                </td>
                <td className="row-actions">
                  {(w.trigger_type ?? w.trigger) === 'manual' && (
                    <button className="small" disabled={!w.enabled} onClick={() => navigate(`/workflows/${enc(w.name)}/run`)}>
                      Run
                    </button>
                  )}
                  <button className="small" onClick={() => navigate(`/runs?workflow=${enc(w.name)}`)}>
                    History
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
