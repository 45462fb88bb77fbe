/**
 * Streaming reduce, the worker's half: a reducer's input is an async iterable of the map calls'
 * results in the order they complete, each with its index. On the storage channel the reducer reads
 * them itself: it lists the map job's status records, reads each new one, and yields its result, so
 * it starts while maps still run and no result passes through the client. A call that failed for
 * good (its last attempt, or an error never retried) ends the iteration with an UpstreamError.
 * Kept free of client-side imports: the worker bundle loads it.
 */
import { keys, parseCallKey } from '../job/layout.js';
import { decodeStatus, type StoredStatus } from '../job/status.js';
import { statusValue, upstreamError, type ResolveEnv } from './upstream-read.js';

/** One map result as a streaming reducer receives it. */
export interface ReduceItem<T = unknown> {
  /** The result's position among the reducer's inputs (in a single reducer, the map call's id). */
  index: number;
  /** The map call's id in its job. */
  callId: number;
  value: T;
}

/** Which results a feed yields. */
export interface FeedSpec {
  executorId: string;
  jobId: string;
  bucket?: string;
  /** The map calls, in the reducer's order: call `callIds[i]` yields `index: i`. */
  callIds: number[];
  /** The map job's `retries`: a failure on attempt `retries + 1` is final. */
  retries: number;
  /** The map job retries out-of-memory calls with more memory (their failures are not final). */
  oomRetry?: boolean;
  /** Results already known, in completion order (the localhost IPC channel, where they are not in storage). */
  values?: ReduceItem[];
  /** With `values`: the call that failed (after them), which ends the iteration with an UpstreamError. */
  failed?: { callId: number; name: string; message: string; code?: string };
}

/** Kinds of errors a call is never retried for (as the client's settle.ts decides). */
const FINAL_KINDS = new Set(['serialization', 'packaging', 'integrity', 'cancelled', 'upstream']);
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 400;

/** The results the spec names as an async iterable, in completion order. */
export function resultFeed(spec: FeedSpec, env: ResolveEnv): AsyncIterable<ReduceItem> {
  if (spec.values) return fromValues(spec, spec.values, env);
  return fromStorage(spec, env);
}

async function* fromValues(spec: FeedSpec, values: ReduceItem[], env: ResolveEnv): AsyncGenerator<ReduceItem> {
  for (const item of values) yield item;
  const failed = spec.failed;
  if (failed)
    throw upstreamError({ executorId: spec.executorId, jobId: spec.jobId, callId: failed.callId }, failed, env);
}

async function* fromStorage(spec: FeedSpec, env: ResolveEnv): AsyncGenerator<ReduceItem> {
  const storage = env.ctx.storage;
  const bucket = spec.bucket ?? env.bucket ?? '';
  const jobKey = keys.job(spec.executorId, spec.jobId);
  const wanted = new Map(spec.callIds.map((id, index) => [id, index]));
  const read = new Set<string>();
  let wait = FIRST_POLL_MS;
  while (wanted.size > 0) {
    env.ctx.signal.throwIfAborted();
    const fresh: Array<{ key: string; callId: number; attempt: number }> = [];
    for await (const e of storage.list(bucket, keys.statusPrefix(jobKey))) {
      if (!('key' in e) || read.has(e.key)) continue;
      const k = parseCallKey(e.key);
      if (k && wanted.has(k.callId)) fresh.push({ key: e.key, callId: k.callId, attempt: k.attempt ?? 1 });
    }
    for (const f of fresh) {
      if (!wanted.has(f.callId)) continue; // a second attempt of a call already yielded
      read.add(f.key);
      const status = decodeStatus(await storage.get(bucket, f.key), { bucket, key: f.key }, f.attempt);
      if (!status.ok) {
        if (isFinal(status, spec)) {
          throw upstreamError(
            { executorId: spec.executorId, jobId: spec.jobId, callId: f.callId },
            status.error ?? { name: 'Error', message: 'it failed' },
            env,
          );
        }
        continue; // the client retries it: a later attempt's status will come
      }
      const value = await statusValue(storage, bucket, jobKey, status);
      const index = wanted.get(f.callId) as number;
      wanted.delete(f.callId);
      yield { index, callId: f.callId, value };
    }
    if (wanted.size === 0) return;
    wait = fresh.length > 0 ? FIRST_POLL_MS : Math.min(MAX_POLL_MS, wait * 2);
    await sleep(wait, env.ctx.signal);
  }
}

function isFinal(status: StoredStatus, spec: FeedSpec): boolean {
  const kind = status.error?.kind;
  if (kind === 'oom' && spec.oomRetry) return false;
  return status.attempt > spec.retries || (kind !== undefined && FINAL_KINDS.has(kind));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
