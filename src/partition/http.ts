/**
 * HTTP(S) inputs: probing a URL (client side: HEAD, or a GET whose body is never read) and reading a
 * chunk (worker side: `fetch` with a Range header). Every request asks for the identity encoding, so
 * byte offsets are offsets in the file and not in a compressed stream.
 */
import { PartitionError, shownUri } from './errors.js';

/** What a probe learned about a URL. */
export interface HttpObject {
  /** Content-Length, or -1 when the server did not send one. */
  size: number;
  /** The server serves byte ranges (`Accept-Ranges: bytes`) and told the size. */
  ranges: boolean;
  etag?: string;
}

const IDENTITY = { 'accept-encoding': 'identity' };

async function request(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, headers: { ...IDENTITY, ...(init.headers as Record<string, string> | undefined) } });
  } catch (err) {
    const why = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new PartitionError('HTTP', `${what} ${shownUri(url)} failed: ${why}`, { uri: url, cause: err });
  }
}

function statusError(res: Response, url: string, what: string): PartitionError {
  return new PartitionError('HTTP', `${what} ${shownUri(url)} answered ${res.status} ${res.statusText}`.trimEnd(), { uri: url });
}

/**
 * Learns a URL's size and whether it serves ranges, from headers only: a HEAD, or when the server
 * refuses HEAD a GET that is cancelled before its body is read.
 *
 * @throws PartitionError (code `HTTP`) for an unreachable server or an error status.
 */
export async function probeHttp(url: string): Promise<HttpObject> {
  let res = await request(url, { method: 'HEAD' }, 'HEAD');
  if (res.status === 405 || res.status === 501) {
    res = await request(url, { method: 'GET' }, 'GET');
    await res.body?.cancel().catch(() => undefined);
  }
  if (!res.ok) throw statusError(res, url, res.status === 405 ? 'GET' : 'HEAD');
  const length = res.headers.get('content-length');
  const size = length !== null && /^\d+$/.test(length.trim()) ? Number(length) : -1;
  const ranges = size >= 0 && /\bbytes\b/i.test(res.headers.get('accept-ranges') ?? '') && !res.headers.get('content-encoding');
  const etag = res.headers.get('etag') ?? undefined;
  return { size, ranges, ...(etag ? { etag } : {}) };
}

/** The expected identity of a URL's content, checked against every response. */
export interface HttpExpect {
  size: number;
  etag?: string;
}

function changed(url: string, why: string): PartitionError {
  return new PartitionError('OBJECT_CHANGED', `${shownUri(url)} changed since it was planned (${why})`, { uri: url });
}

async function checkEtag(res: Response, url: string, expect: HttpExpect): Promise<void> {
  const etag = res.headers.get('etag');
  if (expect.etag !== undefined && etag !== null && etag !== expect.etag) {
    await res.body?.cancel().catch(() => undefined);
    throw changed(url, `ETag ${etag}, expected ${expect.etag}`);
  }
}

async function* empty(): AsyncGenerator<Uint8Array> {}

function bodyOf(res: Response): AsyncIterable<Uint8Array> {
  return res.body ? (res.body as unknown as AsyncIterable<Uint8Array>) : empty();
}

/** GETs the whole content (a URL without range support, or a chunk covering all of it). */
export async function fetchWhole(url: string, expect: HttpExpect): Promise<AsyncIterable<Uint8Array>> {
  const res = await request(url, { method: 'GET' }, 'GET');
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw statusError(res, url, 'GET');
  }
  await checkEtag(res, url, expect);
  const length = res.headers.get('content-length');
  if (expect.size >= 0 && length !== null && Number(length) !== expect.size && !res.headers.get('content-encoding')) {
    await res.body?.cancel().catch(() => undefined);
    throw changed(url, `${length} bytes, expected ${expect.size}`);
  }
  return bodyOf(res);
}

/** GETs the bytes `[from, to)`; the server must answer 206 with the planned total size. */
export async function fetchRange(url: string, from: number, to: number, expect: HttpExpect): Promise<AsyncIterable<Uint8Array>> {
  if (to <= from) return empty();
  const res = await request(url, { method: 'GET', headers: { range: `bytes=${from}-${to - 1}` } }, 'GET');
  if (res.status === 416) throw changed(url, `range ${from}-${to - 1} is not satisfiable`);
  if (res.status !== 206) {
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) throw new PartitionError('HTTP', `GET ${shownUri(url)} ignored the Range header (status ${res.status}); it served ranges when planned`, { uri: url });
    throw statusError(res, url, 'GET');
  }
  await checkEtag(res, url, expect);
  const total = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '')?.[1];
  if (total !== undefined && Number(total) !== expect.size) {
    await res.body?.cancel().catch(() => undefined);
    throw changed(url, `${total} bytes, expected ${expect.size}`);
  }
  return bodyOf(res);
}
