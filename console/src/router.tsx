// A small client-side router over the History API (the service answers every console path
// with index.html). Leaving a page with unsaved changes asks first.
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const EVENT = 'sluice:navigate';
let guard: (() => boolean) | null = null;

/** While set, navigation asks `confirm` first when `dirty()` says so. */
export function setLeaveGuard(dirty: (() => boolean) | null): void {
  guard = dirty;
}

function mayLeave(): boolean {
  return !guard || !guard() || window.confirm('You have unsaved changes. Leave without saving?');
}

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (!mayLeave()) return;
  guard = null;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(EVENT));
  window.scrollTo(0, 0);
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const on = () => setTick((t) => t + 1);
    window.addEventListener(EVENT, on);
    window.addEventListener('popstate', on);
    return () => {
      window.removeEventListener(EVENT, on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Matches `/workflows/:name/run` against a path; the parameters, decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return out;
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  return (
    <a
      href={to}
      {...rest}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(to);
      }}
    />
  );
}
