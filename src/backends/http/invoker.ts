/**
 * The backend shared by the container platforms (knative, cloudrun, code_engine): each chunk of calls
 * is one `POST /invoke` to a `burst worker serve` service, with at most `concurrency` requests in
 * flight and retries on 429/502/503/504 and refused connections (with backoff and jitter, on the next
 * URL) while the platform scales, up to a deadline. `invoke` resolves once its first request is
 * accepted (so a wrong URL or token fails `map` at once); the rest are sent in the background and the
 * storage monitor collects results. A request that fails for good reports its calls through
 * `lostCalls`, with the URL and HTTP status as the reason: never silently lost.
 *
 * A request carries only the job's place (bucket, job key), the call list and the attempt: the service
 * reads the job from its own storage. Jobs must be signed (`signingKey`) unless `signJobs` is false.
 *
 * `cancel` and `close` abort the requests: the instance sees its client's connection close, stops
 * the calls it runs for them and writes them `cancelled` statuses (see worker/entries/http.ts), so
 * nothing keeps running (and billing) for a client that gave up. What it leaves out: discovering
 * instances (give the service URL).
 */
import { warnPlainHttpCredentials } from '../../plain-http-warning.js';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { CancelledError, ConfigError } from '../../errors.js';
import type { BackendContext, ComputeBackend, JobDescriptor, LostCallInfo } from '../types.js';
import { chunkCalls, formatCallSpec } from '../../worker/call-spec.js';
import { postOnce } from './post.js';
import { InvocationError, safeUrl } from '../invocation-error.js';

/** Options every HTTP backend takes (`knative: {...}`, `cloudrun: {...}`, `code_engine: {...}`). */
export interface HttpInvokerOptions {
  /** The service URL, e.g. `https://burst-worker.default.example.com`; requests go to `<url>/invoke`. */
  url?: string;
  /** Several service URLs, used in turn (round robin); a retry moves to the next one. @default [url] */
  urls?: string[];
  /** Requests in flight at once (each runs one chunk of calls). @default 64 */
  concurrency?: number;
  /** Shared secret of the service (its `BURST_SERVE_TOKEN`), sent as a bearer token. @default none */
  token?: string;
  /** Extra request headers, e.g. a `Host` for a Knative ingress reached by IP. @default {} */
  headers?: Record<string, string>;
  /** How long one request keeps retrying 429/503/refused connections before its calls fail. @default 120 */
  retryDeadlineSeconds?: number;
  /** Seconds to wait for a TCP connection. @default 10 */
  connectTimeoutSeconds?: number;
  /**
   * Refuse to submit unless jobs are signed (`signingKey` or $BURST_SIGNING_KEY, the same secret as
   * the service's BURST_SIGNING_KEY): the service listens on a network, and without signatures
   * whoever can write the bucket runs code on it. `false` sends unsigned jobs to a service started
   * with `--allow-unsigned-jobs` or `--insecure`. @default true
   */
  signJobs?: boolean;
}

/** What a driver adds to the shared invoker. */
export interface HttpBackendSetup {
  /** The backend name, also the options section (`knative`). */
  name: string;
  options: HttpInvokerOptions;
  context: BackendContext;
  /** A platform bearer token (a Cloud Run ID token); when it returns one, `token` goes in `X-Burst-Token`. */
  platformToken?: () => Promise<string | undefined>;
  /** Advice appended to a refusal with this status (e.g. how to get a token for 401/403). */
  hint?: (status: number | undefined) => string | undefined;
}

/** Calls waiting for one POST. */
interface Dispatch {
  job: JobDescriptor;
  callIds: number[];
  attempt: number;
  /** Index of the first URL to try. */
  urlIndex: number;
  controller: AbortController;
  accepted: Deferred;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

const DEFAULTS = { concurrency: 64, retryDeadlineSeconds: 120, connectTimeoutSeconds: 10 };
/** Grace on top of the calls' own timeouts before an accepted request that never answers counts as lost. */
const RESPONSE_GRACE_S = 300;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5000;

/** Creates an HTTP backend; drivers call this with their name and options. */
export function httpBackend(setup: HttpBackendSetup): ComputeBackend {
  return new HttpBackend(setup);
}

class HttpBackend implements ComputeBackend {
  readonly name: string;
  private readonly urls: URL[];
  private readonly concurrency: number;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  private readonly queue: Dispatch[] = [];
  private readonly active = new Set<Dispatch>();
  /** The latest attempt dispatched per `<jobKey>/<callId>`, and why it failed for good if it did. */
  private readonly latest = new Map<string, { attempt: number; lost?: LostCallInfo }>();
  private next = 0;
  private closed = false;
  /** Requests sent, retried, accepted and failed for good (for tests and stats). */
  readonly counters = { posts: 0, retries: 0, accepted: 0, failed: 0 };

  constructor(private readonly s: HttpBackendSetup) {
    this.name = s.name;
    const o = s.options;
    this.urls = validate(s.name, o);
    warnPlainHttpCredentials(
      this.urls,
      `${s.name} requests (bearer token)`,
      o.token !== undefined || s.platformToken !== undefined,
    );
    if (!s.context.storageIsRemote) {
      throw new ConfigError(
        `the ${s.context.storage.driver} storage is not reachable from ${s.name} instances: use "s3" (or another object store the service can reach)`,
        { backend: s.name, keyPath: 'storage' },
      );
    }
    if (o.signJobs !== false && !s.context.signingKey) {
      throw new ConfigError(
        `the ${s.name} backend sends jobs to workers that listen on a network, so it signs them: set signingKey (or BURST_SIGNING_KEY) to the same secret as the service's BURST_SIGNING_KEY, or set ${s.name}.signJobs to false for a service started with --allow-unsigned-jobs or --insecure`,
        { backend: s.name, keyPath: 'signingKey' },
      );
    }
    this.concurrency = o.concurrency ?? DEFAULTS.concurrency;
    const agent = { keepAlive: true, maxSockets: this.concurrency };
    this.agents = { http: new HttpAgent(agent), https: new HttpsAgent(agent) };
  }

  async invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    if (this.closed)
      throw new CancelledError(`the ${this.name} backend is closed`, { backend: this.name, jobId: job.jobId });
    const mine: Dispatch[] = [];
    for (const ids of chunkCalls(callIds, job.chunksize)) {
      for (const id of ids) this.latest.set(`${job.jobKey}/${id}`, { attempt });
      mine.push({
        job,
        callIds: ids,
        attempt,
        urlIndex: this.next++ % this.urls.length,
        controller: new AbortController(),
        accepted: deferred(),
      });
    }
    if (mine.length === 0) return;
    this.queue.push(...mine);
    this.pump();
    try {
      await (mine[0] as Dispatch).accepted.promise;
    } catch (err) {
      // The service refused the first request: the others would fare no better.
      for (const d of mine) this.abort(d);
      throw err;
    }
  }

  async lostCalls(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>> {
    const out = new Map<number, LostCallInfo>();
    for (const id of callIds) {
      const lost = this.latest.get(`${job.jobKey}/${id}`)?.lost;
      if (lost) out.set(id, lost);
    }
    return out;
  }

  async cancel(job: JobDescriptor): Promise<void> {
    for (const d of [...this.queue, ...this.active]) if (d.job.jobKey === job.jobKey) this.abort(d);
    for (const key of this.latest.keys()) if (key.startsWith(`${job.jobKey}/`)) this.latest.delete(key);
  }

  /** Aborts the requests that carry only these calls as `attempt`: the instance stops them (a backup race's loser). */
  async cancelCalls(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    const ids = new Set(callIds);
    for (const d of [...this.queue, ...this.active])
      if (d.job.jobKey === job.jobKey && d.attempt === attempt && d.callIds.every((id) => ids.has(id))) this.abort(d);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const d of [...this.queue, ...this.active]) this.abort(d);
    this.latest.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private abort(d: Dispatch): void {
    d.controller.abort();
    const i = this.queue.indexOf(d);
    if (i >= 0) this.queue.splice(i, 1);
    settle(d.accepted);
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.queue.length > 0) {
      const d = this.queue.shift() as Dispatch;
      this.active.add(d);
      void this.run(d).finally(() => {
        this.active.delete(d);
        this.pump();
      });
    }
  }

  /** Posts one chunk, retrying while the platform is not ready, until it ends one way or another. */
  private async run(d: Dispatch): Promise<void> {
    const deadline = Date.now() + (this.s.options.retryDeadlineSeconds ?? DEFAULTS.retryDeadlineSeconds) * 1000;
    // Only the job's name: the service reads it from its own storage (configured at deploy time).
    const body = JSON.stringify({
      bucket: d.job.bucket,
      jobKey: d.job.jobKey,
      calls: formatCallSpec(d.callIds),
      attempt: d.attempt,
    });
    for (let tries = 1; ; tries++) {
      if (d.controller.signal.aborted) return;
      const base = this.urls[(d.urlIndex + tries - 1) % this.urls.length] as URL;
      const url = new URL('invoke', base);
      this.counters.posts++;
      let headers: Record<string, string>;
      try {
        headers = await this.headers();
      } catch (err) {
        return this.fail(d, url, 'AUTH', `could not get a token: ${(err as Error).message}`);
      }
      const outcome = await postOnce({
        url,
        body,
        headers,
        agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
        signal: d.controller.signal,
        onAccepted: () => {
          this.counters.accepted++;
          settle(d.accepted);
        },
        connectTimeoutMs: (this.s.options.connectTimeoutSeconds ?? DEFAULTS.connectTimeoutSeconds) * 1000,
        responseTimeoutMs: (d.callIds.length * d.job.timeoutSeconds + RESPONSE_GRACE_S) * 1000,
      });
      switch (outcome.kind) {
        case 'aborted':
          return settle(d.accepted);
        case 'done':
          if (outcome.result.error)
            return this.fail(d, url, 'WORKER_ERROR', `the instance could not run the calls: ${outcome.result.error}`);
          return settle(d.accepted);
        case 'lost':
          return this.fail(d, url, outcome.state, `POST ${safeUrl(url)}: ${outcome.detail}`);
        case 'refused':
          return this.fail(
            d,
            url,
            outcome.state,
            `POST ${safeUrl(url)} ${outcome.status ? `answered ${outcome.detail}` : `failed: ${outcome.detail}`}`,
            outcome.status,
          );
        case 'retry': {
          const delay = Math.min(
            BACKOFF_MAX_MS,
            outcome.retryAfterMs ?? Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** tries),
          );
          if (Date.now() + delay > deadline) {
            const secs = this.s.options.retryDeadlineSeconds ?? DEFAULTS.retryDeadlineSeconds;
            return this.fail(
              d,
              url,
              outcome.state,
              `POST ${safeUrl(url)} gave up after ${tries} tries in ${secs} s (retryDeadlineSeconds); last: ${outcome.detail}`,
              outcome.status,
            );
          }
          this.counters.retries++;
          if (!(await sleep(delay, d.controller.signal))) return settle(d.accepted);
        }
      }
    }
  }

  /** Marks the dispatch's calls as lost (when it is still their latest attempt) and fails its acceptance. */
  private fail(d: Dispatch, url: URL, state: string, reason: string, status?: number): void {
    if (d.controller.signal.aborted) return settle(d.accepted);
    this.counters.failed++;
    const hint = this.s.hint?.(status);
    const message = hint ? `${reason} (${hint})` : reason;
    for (const id of d.callIds) {
      const entry = this.latest.get(`${d.job.jobKey}/${id}`);
      if (entry?.attempt === d.attempt) entry.lost = { state, reason: message };
    }
    if (!d.accepted.settled) {
      d.accepted.settled = true;
      d.accepted.reject(
        new InvocationError(
          `the ${this.name} backend could not invoke calls ${formatCallSpec(d.callIds)} of job ${d.job.jobId}: ${message}`,
          {
            url: safeUrl(url),
            ...(status ? { status } : {}),
            backend: this.name,
            jobId: d.job.jobId,
            executorId: d.job.executorId,
          },
        ),
      );
    }
  }

  private async headers(): Promise<Record<string, string>> {
    const o = this.s.options;
    const platform = await this.s.platformToken?.();
    const out: Record<string, string> = { ...o.headers };
    if (platform) {
      out.Authorization = `Bearer ${platform}`;
      if (o.token) out['X-Burst-Token'] = o.token;
    } else if (o.token) out.Authorization = `Bearer ${o.token}`;
    return out;
  }
}

function validate(name: string, o: HttpInvokerOptions): URL[] {
  const fail = (key: string, what: string, got: unknown): never => {
    throw new ConfigError(`${name}.${key} must be ${what}, got ${JSON.stringify(got)}`, {
      keyPath: `${name}.${key}`,
      backend: name,
    });
  };
  const list = o.urls ?? (o.url !== undefined ? [o.url] : []);
  if (o.urls !== undefined && (!Array.isArray(o.urls) || o.urls.length === 0))
    fail('urls', 'a non-empty array of http:// or https:// URLs', o.urls);
  if (list.length === 0) {
    throw new ConfigError(
      `the ${name} backend needs ${name}.url, the URL of a service running "burst worker serve" (see "burst runtime deploy --backend ${name}")`,
      { keyPath: `${name}.url`, backend: name },
    );
  }
  const urls = list.map((u) => {
    let parsed: URL | undefined;
    try {
      parsed = typeof u === 'string' ? new URL(u) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol))
      return fail(o.urls ? 'urls' : 'url', 'an http:// or https:// URL', u);
    // Requests go to <url>/invoke, also when the URL has a path of its own.
    if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
    return parsed;
  });
  for (const key of ['concurrency', 'retryDeadlineSeconds', 'connectTimeoutSeconds'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0) || (key === 'concurrency' && !Number.isInteger(v))))
      fail(key, key === 'concurrency' ? 'a positive integer' : 'a positive number of seconds', v);
  }
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === ''))
    fail('token', 'a non-empty string', '<hidden>');
  if (o.signJobs !== undefined && typeof o.signJobs !== 'boolean') fail('signJobs', 'a boolean', o.signJobs);
  if ('sendStorageConfig' in o) {
    throw new ConfigError(
      `${name}.sendStorageConfig is gone: requests never carry storage any more; the service uses its own BURST_STORAGE_CONFIG (set by "burst runtime deploy")`,
      { keyPath: `${name}.sendStorageConfig`, backend: name },
    );
  }
  if (
    o.headers !== undefined &&
    (typeof o.headers !== 'object' ||
      o.headers === null ||
      !Object.values(o.headers).every((h) => typeof h === 'string'))
  )
    fail('headers', 'an object of string values', o.headers);
  return urls;
}

function deferred(): Deferred {
  const d = { settled: false } as Deferred;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = resolve;
    d.reject = reject;
  });
  // Only the first dispatch of an invoke is awaited; the others must not raise unhandled rejections.
  d.promise.catch(() => undefined);
  return d;
}

function settle(d: Deferred): void {
  if (d.settled) return;
  d.settled = true;
  d.resolve();
}

/** Sleeps `ms`; false when aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
