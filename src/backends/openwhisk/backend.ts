/**
 * The openwhisk backend: each chunk of calls is one non-blocking activation of a blackbox action of
 * Burst's worker image (`burst worker openwhisk`, deployed by `burst runtime deploy --backend
 * openwhisk`). A 429 (the namespace's rate or concurrency limit) is retried with back-off, quietly,
 * until `retryDeadlineSeconds`. Calls whose activation ended without writing a status are reported with
 * the activation's own status and error (its time or memory limit, a whisk internal error).
 *
 * What it leaves out: cancelling activations (OpenWhisk has no such API: cancel and close stop
 * submitting, running activations finish), sequences, triggers and rules.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, ConfigError } from '../../errors.js';
import { chunkCalls, formatCallSpec } from '../../worker/call-spec.js';
import type { BackendContext, ComputeBackend, JobDescriptor, LostCallInfo } from '../types.js';
import { actionPath, owError, owRequest, type OpenWhiskConnection } from './rest.js';
import { defaultActionName, type OpenWhiskOptions } from './options.js';

/** One activation and the calls it runs. */
interface Activation {
  id: string;
  ended?: LostCallInfo | 'success';
}

/** Creates the openwhisk backend. */
export function openwhisk(options: OpenWhiskOptions, context: BackendContext): ComputeBackend {
  const auth = options.auth ?? process.env.__OW_API_KEY;
  if (!options.apiHost)
    throw new ConfigError(
      'openwhisk.apiHost must be the URL of the OpenWhisk API (e.g. "https://openwhisk.example.com")',
      {
        keyPath: 'openwhisk.apiHost',
        backend: 'openwhisk',
      },
    );
  if (!auth || !/^[^:]+:.+$/.test(auth))
    throw new ConfigError(
      'openwhisk.auth must be the "uuid:key" of your namespace (wsk property get --auth), or set __OW_API_KEY',
      {
        keyPath: 'openwhisk.auth',
        backend: 'openwhisk',
      },
    );
  if (!context.storageIsRemote)
    throw new ConfigError(`the ${context.storage.driver} storage is not reachable from OpenWhisk actions: use "s3"`, {
      keyPath: 'storage',
      backend: 'openwhisk',
    });
  return new OpenWhiskBackend(options, { apiHost: options.apiHost, namespace: options.namespace ?? '_', auth });
}

class OpenWhiskBackend implements ComputeBackend {
  readonly name = 'openwhisk';
  private readonly action: string;
  /** The latest activation of each call, by `<jobKey>/<callId>`. */
  private readonly placements = new Map<string, Activation>();
  private closed = false;
  readonly counters = { activations: 0, throttled: 0 };

  constructor(
    private readonly o: OpenWhiskOptions,
    private readonly c: OpenWhiskConnection,
  ) {
    this.action = o.action ?? defaultActionName();
  }

  async invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    if (this.closed)
      throw new CancelledError('the openwhisk backend is closed', { backend: 'openwhisk', jobId: job.jobId });
    for (const id of callIds) this.placements.delete(`${job.jobKey}/${id}`);
    const chunks = chunkCalls(callIds, job.chunksize);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < chunks.length && !this.closed) {
        const calls = chunks[next++] as number[];
        const id = await this.activate({
          bucket: job.bucket,
          jobKey: job.jobKey,
          calls: formatCallSpec(calls),
          attempt,
        });
        const a: Activation = { id };
        for (const c of calls) this.placements.set(`${job.jobKey}/${c}`, a);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 16, chunks.length) }, lane));
  }

  /** One non-blocking activation; a 429 waits (Retry-After, else doubling from 100 ms) until the deadline. */
  private async activate(params: object): Promise<string> {
    const until = Date.now() + (this.o.retryDeadlineSeconds ?? 300) * 1000;
    let wait = 100;
    for (;;) {
      const r = await owRequest(this.c, 'POST', `${actionPath(this.action)}?blocking=false`, params);
      if ((r.status === 202 || r.status === 200) && typeof r.body.activationId === 'string') {
        this.counters.activations++;
        return r.body.activationId;
      }
      const retryable = r.status === 429 || r.status === 503 || r.status === 502;
      if (!retryable || Date.now() + wait > until || this.closed)
        throw owError(
          `invoking action ${this.action}${retryable ? ' (throttled until the retry deadline)' : ''}`,
          this.c,
          r,
        );
      if (r.status === 429) this.counters.throttled++;
      await sleep(Math.max(wait, r.retryAfterMs ?? 0));
      wait = Math.min(wait * 2, 5000);
    }
  }

  async lostCalls(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>> {
    const lost = new Map<number, LostCallInfo>();
    const checked = new Set<Activation>();
    for (const id of callIds) {
      const a = this.placements.get(`${job.jobKey}/${id}`);
      if (!a) continue;
      if (!checked.has(a) && a.ended === undefined) {
        checked.add(a);
        await this.check(a);
      }
      if (a.ended && a.ended !== 'success') lost.set(id, a.ended);
      else if (a.ended === 'success')
        lost.set(id, { state: 'ENDED', reason: `activation ${a.id} succeeded but wrote no status for this call` });
    }
    return lost;
  }

  /** Reads the activation record: 404 while it runs, then its response. */
  private async check(a: Activation): Promise<void> {
    const r = await owRequest(this.c, 'GET', `/activations/${encodeURIComponent(a.id)}`).catch(() => undefined);
    if (r?.status !== 200) return;
    const response = (r.body.response ?? {}) as { status?: string; success?: boolean; result?: { error?: unknown } };
    if (response.success === true && response.status === 'success') {
      a.ended = 'success';
      return;
    }
    const error = typeof response.result?.error === 'string' ? response.result.error : (response.status ?? 'failed');
    const state = /time limit|timed out/i.test(error)
      ? 'TIMEOUT'
      : /memory/i.test(error)
        ? 'OUT_OF_MEMORY'
        : (response.status ?? 'failed').toUpperCase().replace(/\s+/g, '_');
    a.ended = { state, reason: `activation ${a.id}: ${error}` };
  }

  async cancel(job: JobDescriptor): Promise<void> {
    for (const key of this.placements.keys()) if (key.startsWith(`${job.jobKey}/`)) this.placements.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.placements.clear();
  }
}
