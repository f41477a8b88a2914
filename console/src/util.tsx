// Small shared pieces: loading state, errors, statuses, times, JSON as text.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; reload: () => void; loading: boolean } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  useEffect(() => {
    const n = ++current.current;
    setLoading(true);
    load()
      .then((d) => {
        if (n === current.current) {
          setData(d);
          setError(null);
        }
      })
      .catch((e) => n === current.current && setError(e))
      .finally(() => n === current.current && setLoading(false));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload, loading };
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} (${e.code})`;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {errorText(error)}
    </div>
  );
}

export function Status({ status }: { status: string | null | undefined }) {
  if (!status) return <span className="muted">—</span>;
  return <span className={`status status-${status}`}>{status.replace(/_/g, ' ')}</span>;
}

export function when(t: string | null | undefined): string {
  if (!t) return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString();
}

export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from) return '—';
  const a = new Date(from).getTime();
  const b = to ? new Date(to).getTime() : Date.now();
  if (Number.isNaN(a) || Number.isNaN(b)) return '—';
  const ms = Math.max(0, b - a);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Any JSON value as indented text (rendered as text by React, never as HTML). */
export function Json({ value, className }: { value: unknown; className?: string }) {
  return <pre className={`json ${className ?? ''}`}>{value === undefined ? '—' : JSON.stringify(value, null, 2)}</pre>;
}

export function usePolling(active: boolean, ms: number, f: () => void) {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [active, ms]);
}
