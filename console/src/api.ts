// The console's only way to the service: the public /api/v1, with the admin token kept in
// sessionStorage (gone when the browser session ends; never in a URL or localStorage).
// Bearer tokens are sent by this code alone, never by the browser on its own, so a
// cross-site request cannot ride on them: CSRF does not apply.

const KEY = 'sluice.token';

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

/** An error the API answered with (`{"error": {"code", "message", "details"}}`). */
export class ApiError extends Error {
  status: number;
  code: string;
  details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

type Listener = () => void;
const unauthorized = new Set<Listener>();

/** Called when the token is refused (wrong, revoked): the app signs out. */
export function onUnauthorized(f: Listener): () => void {
  unauthorized.add(f);
  return () => unauthorized.delete(f);
}

export interface Options {
  method?: string;
  body?: string | Blob | ArrayBuffer;
  contentType?: string;
  token?: string;
}

export async function call<T = unknown>(path: string, opts: Options = {}): Promise<T> {
  const token = opts.token ?? getToken();
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  let resp: Response;
  try {
    resp = await fetch(`/api/v1${path}`, { method: opts.method ?? 'GET', headers, body: opts.body });
  } catch (e) {
    throw new ApiError(0, 'UNREACHABLE', `The Sluice service did not answer (${String(e)}).`);
  }
  const text = await resp.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    const e = new ApiError(resp.status, err?.code ?? `HTTP_${resp.status}`, err?.message ?? `HTTP ${resp.status}`, err?.details);
    if (resp.status === 401 && !opts.token) unauthorized.forEach((f) => f());
    throw e;
  }
  return data as T;
}

export const get = <T = unknown>(path: string) => call<T>(path);
export const post = <T = unknown>(path: string, body?: unknown, contentType?: string) =>
  call<T>(path, {
    method: 'POST',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    contentType,
  });
export const put = <T = unknown>(path: string, body: string, contentType = 'application/yaml') =>
  call<T>(path, { method: 'PUT', body, contentType });
export const del = <T = unknown>(path: string) => call<T>(path, { method: 'DELETE' });

export const enc = encodeURIComponent;
