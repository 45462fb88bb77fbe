/**
 * One HTTP(S) request for the partitioner, on `node:http`/`node:https` so that each phase has its own
 * limit: connecting, waiting for the response headers, and each pause while the body streams. A server
 * that never answers fails the map with a typed error instead of hanging it. Redirects are followed
 * only to the same host (or hosts the user allowed), never from HTTPS down to HTTP.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { PartitionError, shownUri } from './errors.js';

// The limits live apart (./http-limits.ts) so that planning, which the package loads at import, does
// not load node:http and node:https with them.
import type { HttpLimits } from './http-limits.js';

export { HTTP_DEFAULTS, type HttpLimits } from './http-limits.js';

/** A response: status, headers and the body stream (to read, or to cancel with `body.destroy()`). */
export interface HttpReply {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: string;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Sends `method` to `url`, following allowed redirects; resolves once the response headers arrived. */
export async function httpRequestOf(
  url: string,
  method: 'GET' | 'HEAD',
  headers: Record<string, string>,
  limits: HttpLimits,
  what: string,
): Promise<HttpReply> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await send(current, method, headers, limits, what, url);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) {
      return {
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        headers: res.headers,
        body: res,
        url: current.href,
      };
    }
    res.destroy();
    if (hop >= MAX_REDIRECTS)
      throw new PartitionError('HTTP', `${what} ${shownUri(url)} redirected more than ${MAX_REDIRECTS} times`, {
        uri: url,
      });
    const next = new URL(location, current);
    checkRedirect(current, next, limits, what, url);
    current = next;
  }
}

function checkRedirect(from: URL, to: URL, limits: HttpLimits, what: string, original: string): void {
  if (to.protocol !== 'http:' && to.protocol !== 'https:') {
    throw new PartitionError(
      'HTTP_REDIRECT',
      `${what} ${shownUri(original)} redirected to a ${to.protocol} URL; only http(s) is read`,
      { uri: original },
    );
  }
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    throw new PartitionError(
      'HTTP_REDIRECT',
      `${what} ${shownUri(original)} redirected from HTTPS to plain HTTP (${from.host} → ${to.host}); refusing the downgrade`,
      { uri: original },
    );
  }
  const host = to.host.toLowerCase();
  if (host === from.host.toLowerCase()) return;
  const allowed = limits.redirectHosts.some((h) => {
    const a = h.toLowerCase();
    return a === host || a === to.hostname.toLowerCase();
  });
  if (!allowed) {
    throw new PartitionError(
      'HTTP_REDIRECT',
      `${what} ${shownUri(original)} redirected from host ${from.host} to another host, ${to.host}; allow it with the option httpRedirectHosts: [${JSON.stringify(to.host)}]`,
      { uri: original },
    );
  }
}

function timeoutError(what: string, url: string, phase: string, ms: number, option: string): PartitionError {
  return new PartitionError(
    'HTTP_TIMEOUT',
    `${what} ${shownUri(url)} ${phase} within ${ms} ms; raise the option ${option} if the server is just slow`,
    { uri: url },
  );
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  limits: HttpLimits,
  what: string,
  original: string,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let req: ClientRequest;
    try {
      req = make(url, { method, headers: { 'accept-encoding': 'identity', ...headers } });
    } catch (err) {
      reject(
        new PartitionError('HTTP', `${what} ${shownUri(original)} failed: ${(err as Error).message}`, {
          uri: original,
          cause: err,
        }),
      );
      return;
    }
    let failed: PartitionError | undefined;
    const fail = (err: PartitionError): void => {
      failed ??= err;
      req.destroy(err);
    };
    const headTimer = setTimeout(
      () => fail(timeoutError(what, original, 'sent no response headers', limits.headTimeout, 'httpHeadTimeout')),
      limits.headTimeout,
    );
    let connectTimer: NodeJS.Timeout | undefined;
    req.on('socket', (socket: Socket) => {
      if (!socket.connecting) return; // a kept-alive connection: already open
      connectTimer = setTimeout(
        () => fail(timeoutError(what, original, 'could not connect', limits.connectTimeout, 'httpConnectTimeout')),
        limits.connectTimeout,
      );
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (err) => {
      clearTimeout(headTimer);
      clearTimeout(connectTimer);
      const why = (err as { cause?: { message?: string } }).cause?.message ?? err.message;
      reject(
        failed ??
          new PartitionError('HTTP', `${what} ${shownUri(original)} failed: ${why}`, { uri: original, cause: err }),
      );
    });
    req.on('response', (res) => {
      clearTimeout(headTimer);
      clearTimeout(connectTimer);
      resolve(res);
    });
    req.end();
  });
}

/**
 * The body of `reply`, failing when the server pauses longer than `readTimeout` while the reader waits
 * for the next bytes (time the reader spends on a chunk is its own, never counted).
 */
export async function* timedBody(reply: HttpReply, limits: HttpLimits, what: string): AsyncGenerator<Uint8Array> {
  const body = reply.body;
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = timeoutError(
            what,
            reply.url,
            'stopped sending its body: no byte arrived',
            limits.readTimeout,
            'httpReadTimeout',
          );
          body.destroy(err);
          reject(err);
        }, limits.readTimeout);
      });
      let next: IteratorResult<Uint8Array>;
      try {
        next = await Promise.race([chunks.next(), stalled]);
      } finally {
        clearTimeout(timer);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (!body.complete) body.destroy();
  }
}
