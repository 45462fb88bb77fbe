/**
 * `burst worker serve`: the HTTP worker of the container platforms (Knative, Cloud Run, Code Engine).
 * It listens on `$PORT` and runs the calls named in each `POST /invoke` with {@link runCalls}, exactly
 * as `burst worker run` does on a Slurm node: the job comes from storage and statuses go back there.
 *
 * The request is held open until its calls are done (synchronous), not answered with 202 and run in
 * the background: these platforms bill, scale out and scale in by in-flight requests, so a request
 * that ends early lets the platform stop the instance (or throttle its CPU) under running calls.
 * Headers (200) are sent as soon as the request is accepted, so the backend learns at once that the
 * calls are placed; the JSON body `{succeeded, failed}` follows when they end.
 *
 * A request is also how its calls are cancelled: when the client closes the connection before the
 * answer (the backend's `cancel`/`close`, or a client that vanished), its calls are aborted and get
 * `cancelled` statuses, so the platform stops paying for them. So are all calls on a second SIGTERM
 * (or SIGINT) while draining.
 *
 * Protocol: `POST /invoke` with `{bucket, jobKey, calls: "0-9,12", attempt, storage?}` →
 * 200 (accepted; body when done) | 400 bad request | 401 bad token | 413 body too large |
 * 429 every slot busy | 503 shutting down. `GET /healthz` → `{ok, inFlight, concurrency, …}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { StorageConfig, StorageDriver } from '../../storage/types.js';
import { parseCallSpec } from '../call-spec.js';
import { envStorageConfig } from '../storage-config.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one. @default Number($PORT) or 8080 */
  port?: number;
  /** Address to listen on. @default '0.0.0.0' */
  host?: string;
  /** Requests run at once by this instance; one more is answered 429. @default os.availableParallelism() */
  concurrency?: number;
  /** Worker processes per request (a chunk of several calls may use more than one). @default 1 */
  workers?: number;
  /** Largest request body accepted, in bytes; more is answered 413. @default 1 MiB */
  maxBodyBytes?: number;
  /** When set, requests must carry `Authorization: Bearer <token>` (or `X-Burst-Token: <token>`). @default $BURST_SERVE_TOKEN */
  token?: string;
  /** Storage used when a request does not carry its own. @default $BURST_STORAGE_CONFIG */
  storage?: StorageConfig;
  /** Folder whose node_modules resolves packages left out of bundles. @default process.cwd() */
  runtimeDir?: string;
  /** Writes one line per notable event (stderr in the CLI). @default no logging */
  log?: (line: string) => void;
  /**
   * Signals that, once {@link ServeHandle.close} is draining, abort the requests still running (their
   * calls get `cancelled` statuses) instead of waiting for them: the first SIGTERM drains, a second
   * one stops. @default ['SIGTERM', 'SIGINT']
   */
  abortSignals?: NodeJS.Signals[];
}

/** The body of `POST /invoke`. */
export interface InvokeRequest {
  bucket: string;
  jobKey: string;
  /** Call ids as a call spec, e.g. `0-9,12`. */
  calls: string;
  /** 1 for a first run; counts retries. */
  attempt: number;
  /** How to reach storage; the server's own configuration when absent. */
  storage?: StorageConfig;
}

/** The final body of an accepted request. */
export interface InvokeResult {
  succeeded?: number;
  failed?: number;
  /** Calls stopped before they finished (the request was aborted). */
  cancelled?: number;
  /** Set when the calls could not be run at all (their statuses may be missing). */
  error?: string;
}

/** A running HTTP worker. */
export interface ServeHandle {
  /** The port it listens on. */
  readonly port: number;
  /** Requests running now. */
  readonly inFlight: number;
  /** Refuses new requests (503), waits for those in flight, then closes sockets and storage. Safe to call twice. */
  close(): Promise<void>;
  /** Aborts every request in flight: their calls stop and get `cancelled` statuses. */
  abort(reason: string): void;
}

const DEFAULT_MAX_BODY = 1024 * 1024;

/** Starts the HTTP worker; resolves once it listens. */
export async function serve(o: ServeOptions = {}): Promise<ServeHandle> {
  const w = new HttpWorker(o);
  await w.listen();
  return w;
}

class HttpWorker implements ServeHandle {
  private readonly server: Server;
  private readonly concurrency: number;
  private readonly maxBody: number;
  private readonly token: Buffer | undefined;
  private readonly storages = new Map<string, Promise<StorageDriver>>();
  private readonly running = new Set<Promise<void>>();
  /** How to abort each running request. */
  private readonly aborts = new Set<AbortController>();
  private draining = false;
  private closing: Promise<void> | undefined;
  private readonly stats = { served: 0, rejectedBusy: 0, rejectedAuth: 0 };
  port = 0;

  constructor(private readonly o: ServeOptions) {
    this.concurrency = o.concurrency ?? availableParallelism();
    this.maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const token = o.token ?? process.env.BURST_SERVE_TOKEN;
    this.token = token ? Buffer.from(token) : undefined;
    this.server = createServer((req, res) => this.route(req, res));
    // Knative's and Cloud Run's front ends keep connections open; let them, but not forever.
    this.server.keepAliveTimeout = 65_000;
  }

  get inFlight(): number {
    return this.running.size;
  }

  listen(): Promise<void> {
    const port = this.o.port ?? (process.env.PORT ? Number(process.env.PORT) : 8080);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.o.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      return reply(res, this.draining ? 503 : 200, { ok: !this.draining, inFlight: this.running.size, concurrency: this.concurrency, ...this.stats });
    }
    if (path !== '/invoke') return reply(res, 404, { error: `no such endpoint ${req.method} ${path}; POST /invoke runs calls` });
    if (req.method !== 'POST') return reply(res, 405, { error: 'use POST /invoke' }, { Allow: 'POST' });
    if (this.token && !this.authorized(req)) {
      this.stats.rejectedAuth++;
      return reply(res, 401, { error: 'missing or wrong bearer token (BURST_SERVE_TOKEN)' }, { 'WWW-Authenticate': 'Bearer' });
    }
    if (this.draining) return reply(res, 503, { error: 'shutting down' }, { 'Retry-After': '1', Connection: 'close' });
    if (this.running.size >= this.concurrency) {
      // The platform (or the backend) retries elsewhere or later: this instance is full.
      this.stats.rejectedBusy++;
      return reply(res, 429, { error: `all ${this.concurrency} slots of this instance are busy` }, { 'Retry-After': '1' });
    }
    const job = this.accept(req, res);
    this.running.add(job);
    void job.finally(() => this.running.delete(job));
  }

  private authorized(req: IncomingMessage): boolean {
    // X-Burst-Token when Authorization carries the platform's own token (a Cloud Run ID token).
    const header = req.headers['x-burst-token'];
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    const given = Buffer.from(typeof header === 'string' ? header : (m?.[1] ?? ''));
    return !!this.token && given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  /** Handles one request with an abort controller that the client's leaving or a forced stop fires. */
  private async accept(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    // 'close' before the response is finished: the client (or the platform's proxy for it) hung up.
    const hangUp = (): void => {
      if (!res.writableFinished) controller.abort(new Error('cancelled by the client (it closed the connection)'));
    };
    res.once('close', hangUp);
    this.aborts.add(controller);
    try {
      await this.invoke(req, res, controller.signal);
    } finally {
      res.off('close', hangUp);
      this.aborts.delete(controller);
    }
  }

  /** Reads and checks the body, sends 200 headers, runs the calls and ends the body with the counts. */
  private async invoke(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    let parsed: { request: InvokeRequest; callIds: number[]; storage: StorageConfig };
    try {
      const body = await readBody(req, this.maxBody);
      if (body === undefined) return reply(res, 413, { error: `request body over ${this.maxBody} bytes` }, { Connection: 'close' });
      parsed = this.parse(body);
    } catch (err) {
      if (signal.aborted) return; // the client left while sending the body: nothing was accepted
      return reply(res, 400, { error: (err as Error).message });
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.flushHeaders();
    const { request, callIds, storage } = parsed;
    let result: InvokeResult;
    try {
      const [driver, { runCalls }] = await Promise.all([this.storageFor(storage), import('../handler.js')]);
      result = await runCalls({ storage: driver, bucket: request.bucket, jobKey: request.jobKey, callIds, attempt: request.attempt, workers: this.o.workers ?? 1, runtimeDir: this.o.runtimeDir ?? process.cwd(), signal });
      this.stats.served++;
    } catch (err) {
      result = { error: (err as Error).message || String(err) };
      this.o.log?.(`burst worker serve: calls ${request.calls} of ${request.jobKey} failed: ${result.error}`);
    }
    if (signal.aborted) this.o.log?.(`burst worker serve: calls ${request.calls} of ${request.jobKey} aborted (${reasonText(signal)}): ${result.cancelled ?? 0} cancelled, ${result.succeeded ?? 0} succeeded, ${result.failed ?? 0} failed`);
    if (!res.destroyed) res.end(JSON.stringify(result));
  }

  private parse(body: Buffer): { request: InvokeRequest; callIds: number[]; storage: StorageConfig } {
    let r: Partial<InvokeRequest>;
    try {
      r = JSON.parse(body.toString('utf8')) as Partial<InvokeRequest>;
    } catch {
      throw new Error('the request body is not valid JSON');
    }
    if (typeof r !== 'object' || r === null) throw new Error('the request body must be a JSON object');
    if (typeof r.bucket !== 'string' || r.bucket === '') throw new Error('"bucket" must be a non-empty string');
    if (typeof r.jobKey !== 'string' || r.jobKey === '') throw new Error('"jobKey" must be a non-empty string');
    if (typeof r.calls !== 'string') throw new Error('"calls" must be a call list such as "0-9,12"');
    if (!Number.isInteger(r.attempt) || (r.attempt as number) < 1) throw new Error(`"attempt" must be a positive integer, got ${JSON.stringify(r.attempt)}`);
    const callIds = parseCallSpec(r.calls);
    const storage = r.storage ?? this.o.storage ?? envStorageConfig();
    if (!storage) throw new Error('the request carries no "storage" and this worker has no BURST_STORAGE_CONFIG');
    if (typeof storage !== 'object' || typeof storage.driver !== 'string' || typeof storage.options !== 'object') {
      throw new Error('"storage" must look like {"driver":"s3","options":{...}}');
    }
    return { request: r as InvokeRequest, callIds, storage };
  }

  /** One driver per distinct storage configuration, kept for the life of the server (its sockets are reused). */
  private storageFor(config: StorageConfig): Promise<StorageDriver> {
    const key = JSON.stringify(config);
    let driver = this.storages.get(key);
    if (!driver) {
      driver = import('../../storage/index.js').then((m) => m.createStorage(config));
      // A failed creation (bad options) must not stick: the next request tries again.
      driver.catch(() => this.storages.delete(key));
      this.storages.set(key, driver);
    }
    return driver;
  }

  abort(reason: string): void {
    for (const c of this.aborts) c.abort(new Error(reason));
  }

  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    // Stop accepting connections; idle keep-alive ones close now, busy ones when their response ends.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const unlisten = this.listenForForce();
    try {
      await Promise.allSettled([...this.running]);
    } finally {
      unlisten();
    }
    this.server.closeIdleConnections();
    await closed;
    const drivers = await Promise.allSettled([...this.storages.values()]);
    await Promise.allSettled(drivers.map((d) => (d.status === 'fulfilled' ? d.value.close?.() : undefined)));
  }

  /** While draining, the next abort signal stops the running requests (once; a further one acts as usual). */
  private listenForForce(): () => void {
    const signals = this.o.abortSignals ?? ['SIGTERM', 'SIGINT'];
    const force = (signal: NodeJS.Signals): void => {
      unlisten();
      this.o.log?.(`burst worker serve: ${signal} again: cancelling ${this.running.size} request(s)`);
      this.abort(`cancelled: the instance was stopped (${signal} while draining)`);
    };
    const unlisten = (): void => {
      for (const s of signals) process.off(s, force);
    };
    for (const s of signals) process.once(s, force);
    return unlisten;
  }
}

/** The message of an aborted signal's reason. */
function reasonText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}

/** The body, or undefined when it is larger than `limit` (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return resolve(undefined);
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
      } else parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
    // A client that leaves mid-body: without this the request would wait forever (and block a drain).
    req.on('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
