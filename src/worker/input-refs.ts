/**
 * Inputs that name other calls' results (futures, chained maps, reducers): the markers the client
 * puts in place of a future, and their resolution in the worker process right before the function
 * runs. A call's result is read from storage (its status record, then its `output` object when the
 * result did not fit), so it never passes through the client; a streamed result becomes an
 * {@link UpstreamStoredResult}; a failed call becomes an {@link UpstreamError} naming both calls.
 *
 * Only inputs wrapped in the {@link INPUT_REFS_MARK} carrier are walked, so ordinary inputs cost one
 * property check. Kept free of client-side imports: the worker bundle loads it.
 */
import { NoSuchKeyError } from '../errors.js';
import { keys, pad, parseCallKey } from '../job/layout.js';
import { decodeStatus, type StoredStatus } from '../job/status.js';
import { resultFeed, type FeedSpec } from './result-feed.js';
import type { StoredResultInfo } from './stream-result.js';
import { statusValue, upstreamError, type ResolveEnv } from './upstream-read.js';
import { UpstreamStoredResult, type RefStorage } from './upstream-stored.js';

export type { ResolveEnv } from './upstream-read.js';

/** The carrier of an input that holds references: `{ [INPUT_REFS_MARK]: input }`. */
export const INPUT_REFS_MARK = '__burstInputRefs';
/** Marks a reference to one call's result. */
export const CALL_REF_MARK = '__burstCallRef';
/** Marks a reducer's feed of results (streaming reduce). */
export const FEED_MARK = '__burstResultFeed';

/** A reference to the result of call `callId` of job `jobId` (of executor `executorId`). */
export interface CallRef {
  executorId: string;
  jobId: string;
  callId: number;
  /** The bucket of the job; the worker's own when absent. */
  bucket?: string;
  /** The attempt whose status holds the result (the newest is looked up when it is missing). */
  attempt?: number;
  /** The call failed (known to the client): the call that reads it fails with an UpstreamError. */
  failed?: { name: string; message: string; code?: string };
  /** The call's result is this stored stream (an upstream that ran over the localhost IPC channel). */
  stored?: StoredResultInfo;
}

/** Wraps an input that holds references so the worker knows to resolve it. */
export function carryRefs(input: unknown): { [INPUT_REFS_MARK]: unknown } {
  return { [INPUT_REFS_MARK]: input };
}

/** A reference as it travels. */
export function callRef(ref: CallRef): { [CALL_REF_MARK]: CallRef } {
  return { [CALL_REF_MARK]: ref };
}

/** A feed as it travels. */
export function feedRef(spec: FeedSpec): { [FEED_MARK]: FeedSpec } {
  return { [FEED_MARK]: spec };
}

/** True when the input carries references to resolve. */
export function hasInputRefs(input: unknown): input is { [INPUT_REFS_MARK]: unknown } {
  return typeof input === 'object' && input !== null && Object.hasOwn(input, INPUT_REFS_MARK);
}

/** The input with every reference replaced by the value it names (read from storage). */
export async function resolveInput(input: unknown, env: ResolveEnv): Promise<unknown> {
  if (!hasInputRefs(input)) return input;
  return walk(input[INPUT_REFS_MARK], env);
}

/** At most this many results of one input are read at once. */
const READ_CONCURRENCY = 16;

async function walk(value: unknown, env: ResolveEnv): Promise<unknown> {
  if (typeof value !== 'object' || value === null) return value;
  if (Object.hasOwn(value, CALL_REF_MARK))
    return readCallResult((value as Record<string, CallRef>)[CALL_REF_MARK] as CallRef, env);
  if (Object.hasOwn(value, FEED_MARK))
    return resultFeed((value as Record<string, FeedSpec>)[FEED_MARK] as FeedSpec, env);
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < value.length) {
        const i = next++;
        out[i] = await walk(value[i], env);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, value.length) }, worker));
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = await walk(v, env);
  return out;
}

/** The result of the call a reference names, read from storage; an UpstreamError when it failed. */
export async function readCallResult(ref: CallRef, env: ResolveEnv): Promise<unknown> {
  if (ref.failed) throw upstreamError(ref, ref.failed, env);
  const storage = env.ctx.storage;
  if (ref.stored) return new UpstreamStoredResult(ref.stored, storage);
  const bucket = ref.bucket ?? env.bucket ?? '';
  const jobKey = keys.job(ref.executorId, ref.jobId);
  const status = await readStatus(storage, bucket, jobKey, ref, env);
  if (!status.ok) throw upstreamError(ref, status.error ?? { name: 'Error', message: 'it failed' }, env);
  return statusValue(storage, bucket, jobKey, status);
}

/** The status of the referenced attempt, else the newest one listed. */
async function readStatus(
  storage: RefStorage,
  bucket: string,
  jobKey: string,
  ref: CallRef,
  env: ResolveEnv,
): Promise<StoredStatus> {
  if (ref.attempt !== undefined) {
    const key = keys.status(jobKey, ref.callId, ref.attempt);
    try {
      return decodeStatus(await storage.get(bucket, key), { bucket, key }, ref.attempt);
    } catch (err) {
      if (!(err instanceof NoSuchKeyError)) throw err;
    }
  }
  let newest: { key: string; attempt: number } | undefined;
  for await (const e of storage.list(bucket, `${keys.statusPrefix(jobKey)}${pad(ref.callId)}`)) {
    if (!('key' in e)) continue;
    const k = parseCallKey(e.key);
    if (k?.callId !== ref.callId) continue;
    if (!newest || (k.attempt ?? 1) > newest.attempt) newest = { key: e.key, attempt: k.attempt ?? 1 };
  }
  if (!newest)
    throw upstreamError(
      ref,
      { name: 'Error', message: 'it has no status in storage (it never ran, or its job was deleted)' },
      env,
    );
  return decodeStatus(await storage.get(bucket, newest.key), { bucket, key: newest.key }, newest.attempt);
}
