/**
 * A real HTTP proxy in front of a real S3 gateway that answers chosen requests itself with an S3 error
 * (503 SlowDown, 500 InternalError, ...) before the gateway sees them: how the tests exercise retries
 * without mocking the SDK. The Host header is kept, so SigV4 signatures still verify upstream.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Decides, per request, whether to fail it: return `[status, code]` to fail, undefined to forward. */
export type FaultRule = (req: IncomingMessage, index: number) => [number, string] | undefined;

export interface FaultyProxy {
  endpoint: string;
  /** Requests seen so far (method and path). */
  seen: string[];
  /** The headers of each request seen, in the same order. */
  headers: IncomingMessage['headers'][];
  /** Requests answered with an injected error. */
  injected: number;
  close(): Promise<void>;
}

/**
 * Starts the proxy. `beforeForward`, when given, is awaited before a request goes upstream: the test
 * can change the store at an exact point of a transfer.
 */
export async function startFaultyProxy(
  upstream: string,
  rule: FaultRule,
  beforeForward?: (req: IncomingMessage, index: number) => Promise<void>,
): Promise<FaultyProxy> {
  const target = new URL(upstream);
  const state = { seen: [] as string[], headers: [] as IncomingMessage['headers'][], injected: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const index = state.seen.length;
    state.seen.push(`${req.method} ${req.url}`);
    state.headers.push(req.headers);
    const fault = rule(req, index);
    if (fault) {
      state.injected++;
      req.resume();
      req.on('end', () => {
        const [status, code] = fault;
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by test proxy</Message></Error>`;
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
        res.end(req.method === 'HEAD' ? undefined : xml);
      });
      return;
    }
    const forward = () => {
      const up = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', (err) => res.destroy(err));
      req.pipe(up);
    };
    if (beforeForward) {
      req.pause();
      beforeForward(req, index).then(forward, (err: unknown) => res.destroy(err as Error));
    } else {
      forward();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get seen() {
      return state.seen;
    },
    get headers() {
      return state.headers;
    },
    get injected() {
      return state.injected;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
