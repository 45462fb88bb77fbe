/**
 * `burst worker serve`: the HTTP worker of the container platforms (Knative, Cloud Run, Code Engine).
 * It listens on `$PORT` and runs the calls named in each `POST /invoke` with {@link runCalls}, exactly
 * as `burst worker run` does on a Slurm node: the job comes from storage and statuses go back there.
 *
 * Secure by default (README "Workers that listen on a network"): it will not start without a bearer
 * token (`BURST_SERVE_TOKEN`) and a job signing key (`BURST_SIGNING_KEY`) unless told `insecure`,
 * and then it listens on loopback only. Its storage is its own configuration (deploy time), never
 * the request's: a request names only a job inside it, and a call list bounded before it is
 * expanded. Headers and bodies have a few seconds to arrive and a request takes a slot only once its
 * body is in, so slow clients cannot hold the slots; the job check in storage has a deadline too.
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
 * Protocol: `POST /invoke` with `{bucket, jobKey, calls: "0-9,12", attempt}` → 200 (accepted; body
 * when done) | 400 bad request | 401 bad token | 404 no such job | 408 body too slow | 413 body too
 * large | 429 every slot busy | 503 shutting down or storage not answering. `GET /healthz` →
 * `{ok, inFlight, concurrency, …}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  CancelledError,
  ConfigError,
  MalformedRecordError,
  NoSuchBucketError,
  NoSuchKeyError,
  StorageError,
} from '../../errors.js';
import type { StorageConfig, StorageDriver } from '../../storage/types.js';
import { resolveSigningKey } from '../../security/signing.js';
import { keys } from '../../job/layout.js';
import { decodeCallCount } from '../../job/manifest.js';
import { envStorageConfig } from '../storage-config.js';
import { BadRequest, expandRanges, parseInvokeRequest, type ParsedInvoke } from './http-request.js';

export type { InvokeRequest } from './http-request.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one. @default Number($PORT) or 8080 */
  port?: number;
  /** Address to listen on; with `insecure`, only a loopback address is accepted. @default '0.0.0.0', or '127.0.0.1' with `insecure` */
  host?: string;
  /** Requests run at once by this instance; one more is answered 429. @default os.availableParallelism() */
  concurrency?: number;
  /** Worker processes per request (a chunk of several calls may use more than one). @default 1 */
  workers?: number;
  /** Largest request body accepted, in bytes; more is answered 413. @default 64 KiB */
  maxBodyBytes?: number;
  /** Requests must carry `Authorization: Bearer <token>` (or `X-Burst-Token: <token>`); required unless `insecure`. @default $BURST_SERVE_TOKEN */
  token?: string;
  /** Run only jobs signed with this key (README "Signed jobs"); required unless `insecure` or `allowUnsignedJobs`. @default $BURST_SIGNING_KEY */
  signingKey?: string;
  /** Run unsigned jobs although this worker listens on a network (anyone who can write its storage then runs code). @default false */
  allowUnsignedJobs?: boolean;
  /** Start without a token (and without a signing key), listening on a loopback address only: for tests and one-machine setups. @default false */
  insecure?: boolean;
  /** The storage every job is read from and written to; requests never name storage. @default $BURST_STORAGE_CONFIG */
  storage?: StorageConfig;
  /** Buckets of that storage requests may name. @default any */
  buckets?: string[];
  /** Most calls one request may name. @default 10000 */
  maxCallsPerRequest?: number;
  /** Time for a request's headers to arrive, in ms. @default 5000 */
  headersTimeoutMs?: number;
  /** Time for a request's body to arrive once its headers have, in ms; slower is answered 408. @default 5000 */
  bodyTimeoutMs?: number;
  /** Time for the job check in storage before a request is accepted, in ms; slower is answered 503. @default 15000 */
  storageTimeoutMs?: number;
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
  /** The address it listens on. */
  readonly host: string;
  /** Requests running now. */
  readonly inFlight: number;
  /** Refuses new requests (503), waits for those in flight, then closes sockets and storage. Safe to call twice. */
  close(): Promise<void>;
  /** Aborts every request in flight: their calls stop and get `cancelled` statuses. */
  abort(reason: string): void;
}

const DEFAULTS = { maxBody: 64 * 1024, maxCalls: 10_000, headersMs: 5000, bodyMs: 5000, storageMs: 15_000 };

/** Starts the HTTP worker; resolves once it listens. Throws a {@link ConfigError} when it would start open. */
export async function serve(o: ServeOptions = {}): Promise<ServeHandle> {
  const settings = checkSecurity(o);
  const config = o.storage ?? envStorageConfig();
  if (!config)
    throw new ConfigError(
      'burst worker serve needs its storage: pass --storage-config or set BURST_STORAGE_CONFIG (requests name only a job in it)',
      { keyPath: 'storage' },
    );
  const { createStorage } = await import('../../storage/index.js');
  const storage = await createStorage(config);
  const w = new HttpWorker(o, settings, storage);
  try {
    await w.listen();
  } catch (err) {
    await storage.close?.();
    throw err;
  }
  return w;
}

/** What {@link checkSecurity} settles: the host, the token and the signing key. */
interface Security {
  host: string;
  token: Buffer | undefined;
  signingKey: string | undefined;
}

/** Refuses to start open: no token, no signing key, or `insecure` on a non-loopback address. */
export function checkSecurity(o: ServeOptions, env: NodeJS.ProcessEnv = process.env): Security {
  const token = o.token ?? env.BURST_SERVE_TOKEN;
  if (token === '')
    throw new ConfigError(
      'BURST_SERVE_TOKEN is set but empty: set it to a secret, or unset it and pass --insecure (loopback only)',
      { keyPath: 'token' },
    );
  const signingKey = resolveSigningKey(o.signingKey, env);
  if (o.insecure) {
    const host = o.host ?? '127.0.0.1';
    if (!isLoopback(host))
      throw new ConfigError(
        `--insecure listens on loopback only (127.0.0.1, ::1 or localhost), got --host ${host}; a worker on a network needs BURST_SERVE_TOKEN and BURST_SIGNING_KEY`,
        { keyPath: 'host' },
      );
    return { host, token: token ? Buffer.from(token) : undefined, signingKey };
  }
  if (!token)
    throw new ConfigError(
      "burst worker serve runs code for whoever can reach it: set BURST_SERVE_TOKEN to a secret (the clients' <backend>.token), or pass --insecure to listen on 127.0.0.1 without one",
      { keyPath: 'token' },
    );
  if (!signingKey && !o.allowUnsignedJobs) {
    throw new ConfigError(
      "burst worker serve runs only signed jobs: set BURST_SIGNING_KEY to the clients' signingKey, or pass --allow-unsigned-jobs (then whoever can write its storage runs code)",
      { keyPath: 'signingKey' },
    );
  }
  return { host: o.host ?? '0.0.0.0', token: Buffer.from(token), signingKey };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

class HttpWorker implements ServeHandle {
  private readonly server: Server;
  private readonly concurrency: number;
  private readonly maxBody: number;
  private readonly maxPending: number;
  private readonly running = new Set<Promise<void>>();
  /** Requests whose body is still arriving (they hold no slot, but are bounded too). */
  private pending = 0;
  /** How to abort each running request. */
  private readonly aborts = new Set<AbortController>();
  private draining = false;
  private closing: Promise<void> | undefined;
  private readonly stats = { served: 0, rejectedBusy: 0, rejectedAuth: 0 };
  port = 0;

  constructor(
    private readonly o: ServeOptions,
    private readonly sec: Security,
    private readonly storage: StorageDriver,
  ) {
    this.concurrency = o.concurrency ?? availableParallelism();
    this.maxBody = o.maxBodyBytes ?? DEFAULTS.maxBody;
    this.maxPending = 4 * this.concurrency + 16;
    const headersTimeout = o.headersTimeoutMs ?? DEFAULTS.headersMs;
    // requestTimeout covers receiving the request only (not the long answer); checked every second.
    this.server = createServer(
      {
        headersTimeout,
        requestTimeout: headersTimeout + (o.bodyTimeoutMs ?? DEFAULTS.bodyMs) + 1000,
        connectionsCheckingInterval: 1000,
      },
      (req, res) => this.route(req, res),
    );
    // Knative's and Cloud Run's front ends keep connections open; let them, but not forever.
    this.server.keepAliveTimeout = 65_000;
  }

  get host(): string {
    return this.sec.host;
  }

  get inFlight(): number {
    return this.running.size;
  }

  listen(): Promise<void> {
    const port = this.o.port ?? (process.env.PORT ? Number(process.env.PORT) : 8080);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.sec.host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      return reply(res, this.draining ? 503 : 200, {
        ok: !this.draining,
        inFlight: this.running.size,
        concurrency: this.concurrency,
        ...this.stats,
      });
    }
    if (path !== '/invoke')
      return reply(res, 404, { error: `no such endpoint ${req.method} ${path}; POST /invoke runs calls` });
    if (req.method !== 'POST') return reply(res, 405, { error: 'use POST /invoke' }, { Allow: 'POST' });
    if (this.sec.token && !this.authorized(req)) {
      this.stats.rejectedAuth++;
      return reply(
        res,
        401,
        { error: 'missing or wrong bearer token (BURST_SERVE_TOKEN)' },
        { 'WWW-Authenticate': 'Bearer', Connection: 'close' },
      );
    }
    if (this.draining) return reply(res, 503, { error: 'shutting down' }, { 'Retry-After': '1', Connection: 'close' });
    if (this.running.size >= this.concurrency || this.pending >= this.maxPending) return this.busy(res);
    void this.accept(req, res);
  }

  /** The platform (or the backend) retries elsewhere or later: this instance is full. */
  private busy(res: ServerResponse): void {
    this.stats.rejectedBusy++;
    reply(res, 429, { error: `all ${this.concurrency} slots of this instance are busy` }, { 'Retry-After': '1' });
  }

  private authorized(req: IncomingMessage): boolean {
    // X-Burst-Token when Authorization carries the platform's own token (a Cloud Run ID token).
    const header = req.headers['x-burst-token'];
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    const given = Buffer.from(typeof header === 'string' ? header : (m?.[1] ?? ''));
    const token = this.sec.token;
    return !!token && given.length === token.length && timingSafeEqual(given, token);
  }

  /** Reads the body (holding no slot), then takes a slot and runs the calls under an abort controller. */
  private async accept(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let parsed: ParsedInvoke;
    this.pending++;
    try {
      const body = await readBody(req, this.maxBody, this.o.bodyTimeoutMs ?? DEFAULTS.bodyMs);
      if (body === 'too-large')
        return reply(res, 413, { error: `request body over ${this.maxBody} bytes` }, { Connection: 'close' });
      if (body === 'too-slow')
        return reply(res, 408, { error: 'the request body did not arrive in time' }, { Connection: 'close' });
      parsed = parseInvokeRequest(body, {
        maxCalls: this.o.maxCallsPerRequest ?? DEFAULTS.maxCalls,
        ...(this.o.buckets ? { buckets: this.o.buckets } : {}),
      });
    } catch (err) {
      if (err instanceof BadRequest) return reply(res, 400, { error: err.message });
      return void res.destroy(); // the client left while sending the body: nothing was accepted
    } finally {
      this.pending--;
    }
    if (this.draining) return reply(res, 503, { error: 'shutting down' }, { 'Retry-After': '1', Connection: 'close' });
    if (this.running.size >= this.concurrency) return this.busy(res);
    const controller = new AbortController();
    // 'close' before the response is finished: the client (or the platform's proxy for it) hung up.
    const hangUp = (): void => {
      if (!res.writableFinished)
        controller.abort(new CancelledError('cancelled by the client (it closed the connection)'));
    };
    res.once('close', hangUp);
    this.aborts.add(controller);
    const job = this.invoke(parsed, res, controller.signal);
    this.running.add(job);
    try {
      await job;
    } finally {
      this.running.delete(job);
      res.off('close', hangUp);
      this.aborts.delete(controller);
    }
  }

  /** Checks the job against storage, sends 200 headers, runs the calls and ends the body with the counts. */
  private async invoke(parsed: ParsedInvoke, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const { request } = parsed;
    let callIds: number[];
    try {
      callIds = await this.checkJob(parsed);
    } catch (err) {
      if (err instanceof BadRequest) return reply(res, 400, { error: err.message });
      if (err instanceof NoSuchKeyError || err instanceof NoSuchBucketError)
        return reply(res, 404, {
          error: `no job ${request.jobKey} in bucket "${request.bucket}" of this worker's storage`,
        });
      this.o.log?.(`burst worker serve: reading job ${request.jobKey} failed: ${(err as Error).message}`);
      return reply(
        res,
        503,
        { error: `this worker could not read job ${request.jobKey}: ${(err as Error).message}` },
        { 'Retry-After': '1' },
      );
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.flushHeaders();
    let result: InvokeResult;
    try {
      const { runCalls } = await import('../handler.js');
      result = await runCalls({
        storage: this.storage,
        bucket: request.bucket,
        jobKey: request.jobKey,
        callIds,
        attempt: request.attempt,
        workers: this.o.workers ?? 1,
        runtimeDir: this.o.runtimeDir ?? process.cwd(),
        signal,
        ...(this.sec.signingKey ? { signingKey: this.sec.signingKey } : {}),
      });
      this.stats.served++;
    } catch (err) {
      result = { error: (err as Error).message || String(err) };
      this.o.log?.(`burst worker serve: calls ${request.calls} of ${request.jobKey} failed: ${result.error}`);
    }
    if (signal.aborted)
      this.o.log?.(
        `burst worker serve: calls ${request.calls} of ${request.jobKey} aborted (${reasonText(signal)}): ${result.cancelled ?? 0} cancelled, ${result.succeeded ?? 0} succeeded, ${result.failed ?? 0} failed`,
      );
    if (!res.destroyed) res.end(JSON.stringify(result));
  }

  /**
   * Reads the job's manifest (within the storage deadline) and checks the call list against its call
   * count; only then are the ids expanded. The signature is checked by runCalls, before any code loads.
   */
  private async checkJob(parsed: ParsedInvoke): Promise<number[]> {
    const { bucket, jobKey } = parsed.request;
    const ms = this.o.storageTimeoutMs ?? DEFAULTS.storageMs;
    const bytes = await deadline(
      this.storage.get(bucket, keys.manifest(jobKey)),
      ms,
      `reading ${keys.manifest(jobKey)} took over ${ms} ms`,
    );
    let callCount: number;
    try {
      callCount = decodeCallCount(bytes, keys.manifest(jobKey));
    } catch (err) {
      if (err instanceof MalformedRecordError) throw new BadRequest(err.message);
      throw err;
    }
    const last = Math.max(...parsed.ranges.map(([, end]) => end));
    if (last >= callCount) throw new BadRequest(`"calls" names call ${last}, but job ${jobKey} has ${callCount} calls`);
    return expandRanges(parsed.ranges);
  }

  abort(reason: string): void {
    for (const c of this.aborts) c.abort(new CancelledError(reason));
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
    await this.storage.close?.();
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

/** The body; 'too-large' past `limit` bytes, 'too-slow' when it has not all arrived within `ms`. Rejects when the client leaves. */
function readBody(req: IncomingMessage, limit: number, ms: number): Promise<Buffer | 'too-large' | 'too-slow'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return resolve('too-large');
    const parts: Buffer[] = [];
    let size = 0;
    const stop = (outcome: 'too-large' | 'too-slow'): void => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      req.pause();
      resolve(outcome);
    };
    // A client that trickles its body would otherwise hold a connection (and, before, a slot) for minutes.
    const timer = setTimeout(() => stop('too-slow'), ms);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) stop('too-large');
      else parts.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // A client that leaves mid-body: without this the request would wait forever (and block a drain).
    req.on('close', () => {
      clearTimeout(timer);
      // internal: the client has left, so the request only ends; no one receives this error.
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

/** `p`, or a {@link StorageError} `STORAGE_TIMEOUT` after `ms`. */
function deadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageError('STORAGE_TIMEOUT', message)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
