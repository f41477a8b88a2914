// Run a manual workflow: a form generated from the trigger's input_schema (masked
// write-only fields), or the raw input JSON; prefilled from a previous run on request.
import { useEffect, useState, type FormEvent } from 'react';
import { enc, get, post } from '../api';
import { navigate } from '../router';
import { SchemaForm, setIn } from '../SchemaForm';
import type { JsonSchema, RunDetail, RunStarted, WorkflowDetail } from '../types';
import { ErrorBox, errorText } from '../util';

/** The schema's top-level defaults, as the form starts. */
function defaults(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema.properties ?? {})) if (p.default !== undefined) out[k] = p.default;
  return out;
}

/** A previous run's input without the redacted (write-only) values. */
function withoutRedacted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutRedacted);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => !(typeof x === 'string' && /^\[REDACTED\]$|^\*+$/.test(x)))
        .map(([k, x]) => [k, withoutRedacted(x)]),
    );
  }
  return v;
}

export function RunFormPage({ name, from }: { name: string; from: string | null }) {
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [enabled, setEnabled] = useState(true);
  const [value, setValue] = useState<Record<string, unknown>>({});
  const [tab, setTab] = useState<'form' | 'json'>('form');
  const [raw, setRaw] = useState('{}');
  const [rawError, setRawError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    (async () => {
      try {
        const w = await get<WorkflowDetail>(`/workflows/${enc(name)}`);
        const trigger = w.document.trigger;
        const s = (trigger.type === 'manual' ? (trigger.input_schema as JsonSchema | undefined) : undefined) ?? { type: 'object' };
        setSchema(s);
        setEnabled(w.enabled);
        let start = defaults(s);
        if (from) {
          const r = await get<RunDetail>(`/runs/${enc(from)}`);
          start = { ...start, ...(withoutRedacted(r.run.input) as Record<string, unknown>) };
        }
        setValue(start);
        setRaw(JSON.stringify(start, null, 2));
      } catch (e) {
        setError(e);
      }
    })();
  }, [name, from]);

  const switchTab = (t: 'form' | 'json') => {
    if (t === 'json') setRaw(JSON.stringify(value, null, 2));
    if (t === 'form' && !rawError) {
      try {
        setValue(JSON.parse(raw));
      } catch {
        /* keep the form's value */
      }
    }
    setTab(t);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let input: unknown = value;
    if (tab === 'json') {
      try {
        input = JSON.parse(raw);
      } catch (err) {
        setRawError(errorText(err));
        return;
      }
    }
    setBusy(true);
    setError(null);
    try {
      const r = await post<RunStarted>(`/workflows/${enc(name)}/runs`, input);
      navigate(`/runs/${enc(r.run_id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page narrow">
      <h1>Run {name}</h1>
      {!enabled && <div className="notice">This workflow is disabled: enable it in the list to run it.</div>}
      <ErrorBox error={error} />
      {schema && (
        <form onSubmit={submit} className="card" data-testid="run-form">
          <div className="tabs" role="tablist">
            <button type="button" role="tab" aria-selected={tab === 'form'} className={tab === 'form' ? 'active' : ''} onClick={() => switchTab('form')}>
              Form
            </button>
            <button type="button" role="tab" aria-selected={tab === 'json'} className={tab === 'json' ? 'active' : ''} onClick={() => switchTab('json')}>
              Input JSON
            </button>
          </div>
          {tab === 'form' ? (
            <SchemaForm schema={schema} value={value} mode="run" idPrefix="input" onField={(p, v) => setValue((cur) => setIn(cur, p, v) as Record<string, unknown>)} />
          ) : (
            <>
              <textarea
                aria-label="Input JSON"
                className="json-input"
                rows={16}
                value={raw}
                onChange={(e) => {
                  setRaw(e.target.value);
                  try {
                    JSON.parse(e.target.value);
                    setRawError(null);
                  } catch (err) {
                    setRawError(errorText(err));
                  }
                }}
              />
              {rawError && <div className="help bad">{rawError}</div>}
            </>
          )}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy || !enabled}>
              {busy ? 'Starting…' : 'Run'}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
