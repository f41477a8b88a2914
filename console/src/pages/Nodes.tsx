// The nodes running this service: on sled the one process, on a shared PostgreSQL database
// every node with its lease, whether it leads (scheduler and Directory Insights poller) and
// the unfinished runs it holds (alone, a node holds every run, without leases). Refreshed every few seconds, so a node that stops renewing
// shows as lapsed and its runs move to the others.
import { get } from '../api';
import type { NodeList } from '../types';
import { ErrorBox, useLoad, usePolling, when } from '../util';

export function NodesPage() {
  const { data, error, reload } = useLoad(() => get<NodeList>('/nodes'), []);
  usePolling(true, 5000, reload);
  const nodes = data?.nodes ?? [];
  return (
    <div className="page">
      <h1>Nodes</h1>
      <ErrorBox error={error} />
      {data && (
        <p className="muted" data-testid="nodes-summary">
          {data.shared
            ? `Nodes sharing this PostgreSQL database. A node renews its leases every third of ${data.lease_seconds ?? '?'} s; when they lapse, the others take over its runs. This page was answered by ${data.node}.`
            : 'This service keeps its state in a local store (sled), so it is the only node. Several nodes share a PostgreSQL database (see docs/cluster.md).'}
        </p>
      )}
      <table className="table">
        <thead>
          <tr>
            <th>Node</th>
            <th>Role</th>
            <th>State</th>
            <th>Runs held</th>
            <th>Version</th>
            <th>Started</th>
            <th>Last renewed</th>
            <th>API</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.id} data-testid={`node-${n.id}`}>
              <td>
                {n.id} {n.id === data?.node && <span className="badge">this one</span>}
              </td>
              <td>{n.leader_of.includes('leader') ? 'leader' : '—'}</td>
              <td>
                <span className={`status ${n.alive ? 'status-succeeded' : 'status-failed'}`}>{n.alive ? 'alive' : 'lapsed'}</span>
              </td>
              <td>{data?.shared ? n.runs : '—'}</td>
              <td>{n.version}</td>
              <td>{when(n.started_at)}</td>
              <td title={data?.shared ? `lapses at ${when(n.expires_at)}` : undefined}>{when(n.seen_at)}</td>
              <td>
                <code>{n.url}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && nodes.length === 0 && <p className="muted">No node has registered yet.</p>}
    </div>
  );
}
