/**
 * Calls to the management API mounted at `api/` next to the page: the bearer token, errors as
 * `ApiError`, and what the page does with a failed call. Each caller names the answer type from
 * `src/management/types.ts`, the types the routes build their answers with.
 */
import { AUTH, TOKEN_KEY, emit } from './context.js';
import { toast } from './dom.js';

/** The token of this tab, if it has one (and storage is allowed). */
export function token(): string | null {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}

/** Forget the token (storage gone: nothing to forget). */
export function forgetToken(): void {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* storage gone: nothing to remove */ }
}

/** `Accept`, the bearer token when the page uses one, and `extra`. */
export function requestHeaders(extra?: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const t = token();
  if (AUTH === 'jwt' && t) headers['Authorization'] = `Bearer ${t}`;
  return { ...headers, ...extra };
}

/** An answer that is not a success, with the API's error `code`. */
export class ApiError extends Error {
  // `declare`d and assigned, not class fields: the ES2020 bundle would need a helper for those.
  declare readonly status: number;
  declare readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** A query string of the parameters that have a value ('' when none has). */
export function query(params: Readonly<Record<string, string | number | null | undefined>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A path segment. */
export function id(part: string): string { return encodeURIComponent(part); }

function errorOf(data: unknown): { code?: string | undefined; message?: string | undefined } {
  if (typeof data !== 'object' || data === null || !('error' in data)) return {};
  const error = data.error;
  if (typeof error !== 'object' || error === null) return {};
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = 'message' in error && typeof error.message === 'string' ? error.message : undefined;
  return { code, message };
}

/**
 * Call the API: JSON in, JSON out, `T` the route's answer type (`null` for 204). Refusals reject
 * with an `ApiError` carrying the API's code and message.
 */
export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, payload?: unknown): Promise<T> {
  const init: RequestInit = {
    method,
    headers: requestHeaders(method === 'GET' ? undefined : { 'Content-Type': 'application/json' }),
    cache: 'no-store',
    credentials: 'same-origin',
  };
  if (payload !== undefined) init.body = JSON.stringify(payload);
  const res = await fetch(`api/${path}`, init);
  if (res.status === 204) return null as T;
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try { data = JSON.parse(text); } catch { throw new ApiError(res.status, 'ERR_BAD_ANSWER', 'the server answered something that is not JSON'); }
  }
  if (!res.ok) {
    const error = errorOf(data);
    throw new ApiError(res.status, error.code || `ERR_HTTP_${res.status}`, error.message || `HTTP ${res.status}`);
  }
  // The one place an answer is trusted to be what its route's type says.
  return data as T;
}

/** Show a failed call: a refused token asks for another, anything else is a toast. */
export function failed(err: unknown): void {
  if (err instanceof ApiError && err.status === 401 && AUTH === 'jwt') { emit('unauthorized', err.message); return; }
  if (err instanceof ApiError && err.status === 403) { toast(`Not allowed: ${err.message}`, 'error'); return; }
  toast((err instanceof Error && err.message) || String(err), 'error');
}

/** Run `work` with `button` disabled, so a double click sends one request. */
export function busy(button: HTMLButtonElement, work: () => Promise<unknown>): Promise<void> {
  button.disabled = true;
  return Promise.resolve().then(work).catch(failed).then(() => { button.disabled = false; });
}
