/**
 * One `POST /invoke` to a `burst worker serve` instance, classified for the invoker: done, worth
 * retrying (the platform is scaling or the instance is full), refused for good, or lost after the
 * instance accepted it. Uses node:http rather than fetch: undici's default body timeout (300 s)
 * would cut a request that is held open while long calls run.
 */
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { InvokeResult } from '../../worker/entries/http.js';

/** How one POST ended. */
export type PostOutcome =
  | { kind: 'done'; result: InvokeResult }
  | { kind: 'retry'; state: string; detail: string; status?: number; retryAfterMs?: number }
  | { kind: 'refused'; state: string; detail: string; status?: number }
  | { kind: 'lost'; state: string; detail: string }
  | { kind: 'aborted' };

/** What {@link postOnce} needs. */
export interface PostRequest {
  url: URL;
  body: string;
  headers: Record<string, string>;
  agent: HttpAgent | HttpsAgent;
  signal: AbortSignal;
  /** Called once when the instance accepted the request (2xx headers). */
  onAccepted: () => void;
  connectTimeoutMs: number;
  /** How long an accepted request may stay open before its calls count as lost. */
  responseTimeoutMs: number;
}

/** Statuses that mean "not now": the platform is scaling, or the instance is full or draining. */
const RETRY_STATUS = new Set([429, 502, 503, 504]);
/** Connection errors before acceptance that a retry (possibly on another URL) may cure. */
const RETRY_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const SNIPPET = 300;

/** Sends one POST and resolves with its outcome; never rejects. */
export function postOnce(r: PostRequest): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let accepted = false;
    let settled = false;
    let responseTimer: NodeJS.Timeout | undefined;
    const settle = (o: PostOutcome): void => {
      if (settled) return;
      settled = true;
      if (responseTimer) clearTimeout(responseTimer);
      resolve(r.signal.aborted ? { kind: 'aborted' } : o);
    };
    const send = r.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(r.url, {
      method: 'POST',
      agent: r.agent,
      signal: r.signal,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(r.body)),
        ...r.headers,
      },
    });
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      // internal: postOnce never rejects; this error only ends the request and its message becomes the outcome's detail.
      const t = setTimeout(
        () =>
          req.destroy(Object.assign(new Error(`no connection within ${r.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })),
        r.connectTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(t));
      socket.once('close', () => clearTimeout(t));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'ERROR';
      const detail = `${code === 'ERROR' ? '' : `${code}: `}${err.message}`;
      if (accepted)
        settle({ kind: 'lost', state: code === 'EBURST_NO_RESPONSE' ? 'NO_RESPONSE' : 'CONNECTION_LOST', detail });
      else if (RETRY_CODES.has(code)) settle({ kind: 'retry', state: 'UNREACHABLE', detail });
      else settle({ kind: 'refused', state: 'UNREACHABLE', detail });
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        accepted = true;
        r.onAccepted();
        // internal: as above, only its message reaches the invoker's InvocationError or lost-call reason.
        responseTimer = setTimeout(
          () =>
            req.destroy(
              Object.assign(new Error(`no answer within ${Math.round(r.responseTimeoutMs / 1000)} s of acceptance`), {
                code: 'EBURST_NO_RESPONSE',
              }),
            ),
          r.responseTimeoutMs,
        );
        void readAll(res).then(
          (text) => settle(parseResult(text)),
          (err: Error) =>
            settle({
              kind: 'lost',
              state: 'CONNECTION_LOST',
              detail: `the connection closed before the calls finished (${err.message})`,
            }),
        );
        return;
      }
      void readAll(res, SNIPPET).then(
        (text) => {
          const detail = `${status} ${res.statusMessage ?? ''}`.trim() + (text ? `: ${errorText(text)}` : '');
          if (RETRY_STATUS.has(status))
            settle({ kind: 'retry', state: `HTTP_${status}`, detail, status, ...retryAfter(res) });
          else settle({ kind: 'refused', state: `HTTP_${status}`, detail, status });
        },
        () =>
          settle(
            RETRY_STATUS.has(status)
              ? { kind: 'retry', state: `HTTP_${status}`, detail: String(status), status }
              : { kind: 'refused', state: `HTTP_${status}`, detail: String(status), status },
          ),
      );
    });
    req.end(r.body);
  });
}

function parseResult(text: string): PostOutcome {
  try {
    const result = JSON.parse(text) as InvokeResult;
    if (typeof result === 'object' && result !== null) return { kind: 'done', result };
  } catch {
    // fall through
  }
  return { kind: 'lost', state: 'BAD_RESPONSE', detail: `the answer is not Burst's JSON: ${text.slice(0, SNIPPET)}` };
}

/** The `error` field of a JSON body, else the body's start. */
function errorText(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === 'string') return e;
  } catch {
    // not JSON (a platform's HTML page)
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, SNIPPET);
}

function retryAfter(res: IncomingMessage): { retryAfterMs?: number } {
  const s = Number(res.headers['retry-after']);
  return Number.isFinite(s) && s >= 0 ? { retryAfterMs: s * 1000 } : {};
}

/** Reads a response to its end; with `limit`, keeps only that many characters. Rejects when the connection breaks first. */
function readAll(res: IncomingMessage, limit = Infinity): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < limit) text += chunk;
    });
    res.on('end', () => resolve(text));
    res.on('error', reject);
    // internal: readAll's rejections become outcome details (see postOnce), never thrown values.
    res.on('aborted', () => reject(new Error('aborted')));
    res.on('close', () => {
      // internal: as above.
      if (!res.complete) reject(new Error('connection closed'));
    });
  });
}
