// The audit log: who changed what, when.
import { get } from '../api';
import type { AuditLog } from '../types';
import { ErrorBox, useLoad, when } from '../util';

export function AuditPage() {
  const { data, error, reload } = useLoad(() => get<AuditLog>('/audit?limit=500'), []);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Audit log</h1>
        <div className="actions">
          <button onClick={reload}>Refresh</button>
        </div>
      </header>
      <ErrorBox error={error} />
      <table className="table" data-testid="audit">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th>On</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {(data?.entries ?? []).map((e, i) => (
            <tr key={i}>
              <td>{when(e.at)}</td>
              <td>{e.who}</td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>{e.target}</td>
              <td className="small">
                <code>{JSON.stringify(e.detail)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
