/**
 * HTTP(S) inputs: probing a URL (client side: HEAD, or a GET whose body is never read) and reading a
 * chunk (worker side: a GET with a Range header). Every request asks for the identity encoding, so
 * byte offsets are offsets in the file and not in a compressed stream. Every request has connect,
 * header and read time limits and follows redirects only within its host (see http-request.ts).
 */
import { PartitionError, shownUri } from './errors.js';
import { HTTP_DEFAULTS, httpRequestOf, timedBody, type HttpLimits, type HttpReply } from './http-request.js';

export { HTTP_DEFAULTS, type HttpLimits } from './http-request.js';

/** What a probe learned about a URL. */
export interface HttpObject {
  /** Content-Length, or -1 when the server did not send one. */
  size: number;
  /** The server serves byte ranges (`Accept-Ranges: bytes`) and told the size. */
  ranges: boolean;
  etag?: string;
}

function header(reply: HttpReply, name: string): string | null {
  const v = reply.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

function statusError(reply: HttpReply, url: string, what: string): PartitionError {
  return new PartitionError('HTTP', `${what} ${shownUri(url)} answered ${reply.status} ${reply.statusText}`.trimEnd(), {
    uri: url,
  });
}

/**
 * Learns a URL's size and whether it serves ranges, from headers only: a HEAD, or when the server
 * refuses HEAD a GET that is cancelled before its body is read.
 *
 * @throws PartitionError (code `HTTP`) for an unreachable server, an error status or an unusable
 *   Content-Length; `HTTP_TIMEOUT` past a time limit; `HTTP_REDIRECT` for a redirect to another host.
 */
export async function probeHttp(url: string, limits: HttpLimits = HTTP_DEFAULTS): Promise<HttpObject> {
  let reply = await httpRequestOf(url, 'HEAD', {}, limits, 'HEAD');
  reply.body.destroy();
  if (reply.status === 405 || reply.status === 501) {
    reply = await httpRequestOf(url, 'GET', {}, limits, 'GET');
    reply.body.destroy();
  }
  if (reply.status < 200 || reply.status > 299) throw statusError(reply, url, reply.status === 405 ? 'GET' : 'HEAD');
  const length = header(reply, 'content-length');
  let size = -1;
  if (length !== null && /^\d+$/.test(length.trim())) {
    size = Number(length);
    if (!Number.isSafeInteger(size))
      throw new PartitionError(
        'HTTP',
        `HEAD ${shownUri(url)} announced a Content-Length of ${length.trim()} bytes, too large to plan`,
        { uri: url },
      );
  }
  const ranges =
    size >= 0 && /\bbytes\b/i.test(header(reply, 'accept-ranges') ?? '') && !header(reply, 'content-encoding');
  const etag = header(reply, 'etag') ?? undefined;
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

function checkEtag(reply: HttpReply, url: string, expect: HttpExpect): void {
  const etag = header(reply, 'etag');
  if (expect.etag !== undefined && etag !== null && etag !== expect.etag) {
    reply.body.destroy();
    throw changed(url, `ETag ${etag}, expected ${expect.etag}`);
  }
}

/** GETs the whole content (a URL without range support, or a chunk covering all of it). */
export async function fetchWhole(
  url: string,
  expect: HttpExpect,
  limits: HttpLimits = HTTP_DEFAULTS,
): Promise<AsyncIterable<Uint8Array>> {
  const reply = await httpRequestOf(url, 'GET', {}, limits, 'GET');
  if (reply.status < 200 || reply.status > 299) {
    reply.body.destroy();
    throw statusError(reply, url, 'GET');
  }
  checkEtag(reply, url, expect);
  const length = header(reply, 'content-length');
  if (expect.size >= 0 && length !== null && Number(length) !== expect.size && !header(reply, 'content-encoding')) {
    reply.body.destroy();
    throw changed(url, `${length} bytes, expected ${expect.size}`);
  }
  return timedBody(reply, limits, 'GET');
}

async function* empty(): AsyncGenerator<Uint8Array> {}

/** GETs the bytes `[from, to)`; the server must answer 206 with the planned total size. */
export async function fetchRange(
  url: string,
  from: number,
  to: number,
  expect: HttpExpect,
  limits: HttpLimits = HTTP_DEFAULTS,
): Promise<AsyncIterable<Uint8Array>> {
  if (to <= from) return empty();
  const reply = await httpRequestOf(url, 'GET', { range: `bytes=${from}-${to - 1}` }, limits, 'GET');
  if (reply.status === 416) {
    reply.body.destroy();
    throw changed(url, `range ${from}-${to - 1} is not satisfiable`);
  }
  if (reply.status !== 206) {
    reply.body.destroy();
    if (reply.status >= 200 && reply.status <= 299)
      throw new PartitionError(
        'HTTP',
        `GET ${shownUri(url)} ignored the Range header (status ${reply.status}); it served ranges when planned`,
        { uri: url },
      );
    throw statusError(reply, url, 'GET');
  }
  checkEtag(reply, url, expect);
  const total = /\/(\d+)\s*$/.exec(header(reply, 'content-range') ?? '')?.[1];
  if (total !== undefined && Number(total) !== expect.size) {
    reply.body.destroy();
    throw changed(url, `${total} bytes, expected ${expect.size}`);
  }
  return timedBody(reply, limits, 'GET');
}
