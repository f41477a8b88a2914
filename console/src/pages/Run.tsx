// One run: the graph coloured by step status, each step's attempts (input, output, error
// with code, impact and remediation, logs, brokered calls), the failure report and the
// output; cancel, resume an interrupted run that nothing is executing (the service says
// so: `resumable`), retry from the failed step or from the start, run again with this
// input. A running run updates by polling. Every value is rendered as text.
import { useEffect, useMemo, useState } from 'react';
import { enc, get, post } from '../api';
import { stepPaths } from '../doc';
import { GraphView } from '../graph/GraphView';
import { Link, navigate } from '../router';
import type { Graph, RunDetail, RunRetried, StepError, StepResult as Result } from '../types';
import { duration, ErrorBox, Json, Status, usePolling, when } from '../util';

const LIVE = ['queued', 'running'];

function isError(r: Result): r is { error: StepError } {
  return 'error' in r;
}

function ms(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us} µs`;
}

/** The report's entry for a failed step (impact, remediation). */
function reportFor(report: Record<string, unknown> | null | undefined, step: string): Record<string, unknown> | undefined {
  const failed = (report?.failed_steps ?? []) as Record<string, unknown>[];
  return failed.find((f) => f.step === step || f.step_id === step || f.id === step);
}

export function RunPage({ id }: { id: string }) {
  const [data, setData] = useState<RunDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [action, setAction] = useState<unknown>(null);
  const load = () =>
    get<RunDetail>(`/runs/${enc(id)}`)
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch(setError);
  useEffect(() => {
    load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);
  const unfinished = !!data && LIVE.includes(data.run.status);
  // Unfinished but not executing (interrupted): nothing changes until it is resumed.
  const held = unfinished && data?.resumable === true;
  const live = unfinished && !held;
  usePolling(live, 1000, load);
  const doc = data?.run.doc;
  useEffect(() => {
    if (!doc) return;
    post<Graph>('/graph', JSON.stringify(doc))
      .then(setGraph)
      .catch(() => setGraph(null));
  }, [doc === undefined ? null : JSON.stringify(doc)]); // eslint-disable-line react-hooks/exhaustive-deps
  const statuses = useMemo(() => {
    const m = new Map<string, string>();
    for (const s of data?.steps ?? []) if (m.get(s.step) !== 'failed') m.set(s.step, isError(s.result) ? 'failed' : 'succeeded');
    return m;
  }, [data]);
  // Every step of the workflow in document order with what the journal recorded for it
  // (a step that did not run has no record); records of other steps (a sub-workflow's) last.
  const timeline = useMemo(() => {
    const recs = data?.steps ?? [];
    const out = stepPaths(data?.run.doc).map(({ path, step }) => ({ id: String(step.id), depth: (path.length - 2) / 2, records: recs.filter((r) => r.step === step.id) }));
    const known = new Set(out.map((e) => e.id));
    for (const r of recs) {
      if (known.has(r.step)) continue;
      known.add(r.step);
      out.push({ id: r.step, depth: 1, records: recs.filter((x) => x.step === r.step) });
    }
    return out;
  }, [data]);

  const act = async (f: () => Promise<unknown>) => {
    setAction(null);
    try {
      await f();
    } catch (e) {
      setAction(e);
    }
  };
  const resume = () =>
    act(async () => {
      await post(`/runs/${enc(id)}/resume`);
      await load();
    });
  const retry = (from: 'failed_step' | 'start') =>
    act(async () => {
      const r = await post<RunRetried>(`/runs/${enc(id)}/retry`, { from });
      navigate(`/runs/${enc(r.run_id)}`);
    });

  if (error && !data) {
    return (
      <div className="page">
        <ErrorBox error={error} />
      </div>
    );
  }
  if (!data) return <div className="page">Loading…</div>;
  const { run, steps } = data;
  const failedOrPartial = ['failed', 'partially_completed', 'cancelled'].includes(run.status);
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>
            Run <code>{run.id}</code>
          </h1>
          <div>
            <Status status={run.status} /> of <Link to={`/workflows/${enc(run.workflow)}`}>{run.workflow}</Link>
            {run.trigger?.workflow_version !== undefined && <span className="muted"> (version {String(run.trigger.workflow_version)})</span>}
            <span className="muted">
              {' '}
              · {String(run.trigger?.type ?? 'manual')} · started {when(run.started_at)} · {duration(run.started_at, run.finished_at)}
              {live && ' · live'}
              {held && ' · interrupted'}
            </span>
          </div>
        </div>
        <div className="actions">
          {held && (
            <button className="primary" onClick={resume}>
              Resume
            </button>
          )}
          {unfinished && <button onClick={() => act(() => post(`/runs/${enc(id)}/cancel`).then(load))}>Cancel</button>}
          {failedOrPartial && <button onClick={() => retry('failed_step')}>Retry from the failed step</button>}
          {!unfinished && <button onClick={() => retry('start')}>Retry from the start</button>}
          <button onClick={() => navigate(`/workflows/${enc(run.workflow)}/run?from=${enc(run.id)}`)}>Run again with this input</button>
        </div>
      </header>
      <ErrorBox error={action} />
      {held && (
        <div className="notice" data-testid="interrupted">
          This run is not executing: it was interrupted (held when the service started, or its execution stopped on an error). Resume continues it from its last recorded step; steps
          already recorded are not run again. Or cancel it.
        </div>
      )}
      <div className="run-layout">
        <section className="run-graph">{graph && <GraphView graph={graph} statuses={statuses} onSelect={(n) => setOpen(graph.nodes.find((x) => x.id === n)?.step_id ?? null)} />}</section>
        <section className="run-steps">
          <h2>
            Steps <span className="muted small">({steps.length} recorded)</span>
          </h2>
          <ol className="timeline" data-testid="steps">
            {timeline.map(({ id, depth, records }) => {
              const failed = records.some((r) => isError(r.result));
              const status = records.length === 0 ? (unfinished ? 'pending' : 'skipped') : failed ? 'failed' : 'succeeded';
              const last = records[records.length - 1];
              const entry = failed ? reportFor(run.report, id) : undefined;
              const isOpen = open === id;
              const attempts = records.flatMap((r) => r.attempts);
              const calls = attempts.reduce((n, a) => n + a.calls.length, 0);
              const error = records.map((r) => r.result).find(isError);
              return (
                <li key={id} className={`step step-${status} depth-${Math.min(depth, 3)}`} data-top={depth === 0 ? '' : undefined} data-testid={`step-${id}`}>
                  <button className="step-head" onClick={() => setOpen(isOpen ? null : id)} aria-expanded={isOpen} disabled={records.length === 0}>
                    <Status status={status} /> <strong>{id}</strong> <span className="muted small">{last?.kind ?? ''}</span>
                    {records.length === 0 ? (
                      <span className="muted small"> · {unfinished ? 'not run yet' : 'not run (its `when` was false, or the run stopped before it)'}</span>
                    ) : (
                      <span className="muted small">
                        {' '}
                        · {records.length > 1 ? `${records.length} runs · ` : ''}
                        {attempts.length} attempt{attempts.length === 1 ? '' : 's'} · {calls} call{calls === 1 ? '' : 's'}
                      </span>
                    )}
                    {error && <code className="bad"> {error.error.code}</code>}
                  </button>
                  {isOpen && (
                    <div className="step-body">
                      {error && (
                        <div className="step-error">
                          <div>
                            <strong>{error.error.code}</strong>: {error.error.message}
                          </div>
                          {entry?.impact !== undefined && <div>Impact: {String(entry.impact)}</div>}
                          {entry?.remediation !== undefined && <div>Remediation: {String(entry.remediation)}</div>}
                        </div>
                      )}
                      {attempts.map((a, i) => (
                        <div className="attempt" key={i}>
                          <h4>
                            Attempt {a.attempt} <span className="muted small">· {when(a.started_at)} · {ms(a.duration_us)}</span>
                          </h4>
                          <div className="cols">
                            <div>
                              <h5>Input</h5>
                              <Json value={a.input} />
                            </div>
                            <div>
                              <h5>{isError(a.result) ? 'Error' : 'Output'}</h5>
                              <Json value={isError(a.result) ? a.result.error : a.result.output} />
                            </div>
                          </div>
                          {a.calls.length > 0 && (
                            <table className="table compact calls">
                              <thead>
                                <tr>
                                  <th>Call</th>
                                  <th>Method</th>
                                  <th>Path</th>
                                  <th>Status</th>
                                  <th>Latency</th>
                                </tr>
                              </thead>
                              <tbody>
                                {a.calls.map((c, j) => (
                                  <tr key={j}>
                                    <td>{c.kind}</td>
                                    <td>{c.method}</td>
                                    <td>
                                      <code>{c.target}</code>
                                    </td>
                                    <td>{c.status ?? c.error ?? '—'}</td>
                                    <td>{ms(c.latency_us)}</td>
                                  </tr>
                                ))}
                              </tbody>
                            </table>
                          )}
                          {a.logs.length > 0 && <pre className="logs">{a.logs.map((l) => `${l.level.toUpperCase()} ${l.message}`).join('\n')}</pre>}
                        </div>
                      ))}
                      {attempts.length === 0 && last && <Json value={isError(last.result) ? last.result.error : last.result.output} />}
                    </div>
                  )}
                </li>
              );
            })}
          </ol>
        </section>
      </div>
      <div className="cols">
        <section>
          <h2>Input</h2>
          <Json value={run.input} />
        </section>
        <section>
          <h2>{run.report ? 'Failure report' : 'Output'}</h2>
          <Json value={run.report ?? run.output ?? null} className="result" />
          {run.report && run.output !== undefined && run.output !== null && (
            <>
              <h3>Output</h3>
              <Json value={run.output} />
            </>
          )}
        </section>
      </div>
    </div>
  );
}
