/**
 * The OpenWhisk REST API as Burst uses it: actions (`PUT|GET|DELETE /api/v1/namespaces/{ns}/actions/{name}`,
 * list), non-blocking invocations (`POST …/actions/{name}?blocking=false` → 202 `{activationId}`) and
 * activation records (`GET …/activations/{id}`), over `fetch` with the `uuid:key` as basic auth.
 *
 * Why not the `openwhisk` npm client: Burst needs five requests, its own 429 back-off (the client has
 * none) and no extra dependency tree in the client; the REST API is stable and documented.
 */
import { InvocationError, safeUrl } from '../invocation-error.js';

/** Where and as whom to call the API. */
export interface OpenWhiskConnection {
  apiHost: string;
  namespace: string;
  auth: string;
}

/** An answer of the API. */
export interface OwResponse {
  status: number;
  body: Record<string, unknown>;
  retryAfterMs?: number;
}

/** Sends one request; network failures become an {@link InvocationError} naming the URL. */
export async function owRequest(
  c: OpenWhiskConnection,
  method: string,
  path: string,
  body?: unknown,
): Promise<OwResponse> {
  const url = `${c.apiHost.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(c.namespace)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(c.auth).toString('base64')}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new InvocationError(`the OpenWhisk API at ${safeUrl(url)} did not answer: ${(err as Error).message}`, {
      url: safeUrl(url),
      backend: 'openwhisk',
      cause: err,
    });
  }
  const text = await res.text();
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { error: text.slice(0, 300) };
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  return {
    status: res.status,
    body:
      parsed && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : { items: parsed },
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
  };
}

/** The path of an action. */
export const actionPath = (name: string): string => `/actions/${encodeURIComponent(name)}`;

/** An API answer that is not what was expected, as an {@link InvocationError} with a hint. */
export function owError(what: string, c: OpenWhiskConnection, r: OwResponse): InvocationError {
  const hint =
    r.status === 401
      ? ': openwhisk.auth is not a valid "uuid:key" for this host'
      : r.status === 403
        ? `: this key may not use namespace ${c.namespace}`
        : r.status === 404
          ? ': no such action; deploy it with "burst runtime deploy --backend openwhisk"'
          : '';
  const message = typeof r.body.error === 'string' ? r.body.error : JSON.stringify(r.body).slice(0, 200);
  return new InvocationError(`${what} failed (HTTP ${r.status}${hint}): ${message}`, {
    url: safeUrl(c.apiHost),
    status: r.status,
    backend: 'openwhisk',
  });
}
