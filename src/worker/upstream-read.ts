/**
 * Reading another call's result on the worker: the value a successful status stands for, and the
 * error of a call whose input came from a call that failed. Shared by input references
 * (./input-refs.ts) and reducer feeds (./result-feed.ts).
 */
import { UpstreamError } from '../errors.js';
import { keys } from '../job/layout.js';
import type { StoredStatus } from '../job/status.js';
import { decode } from '../serialize/index.js';
import type { CallContext } from './context.js';
import type { SerializedError } from './protocol.js';
import { storedResultInfo } from './stream-result.js';
import { UpstreamStoredResult, type RefStorage } from './upstream-stored.js';

/** What resolving needs from the call: its context (storage, signal, names) and the worker's bucket. */
export interface ResolveEnv {
  ctx: Pick<CallContext, 'callId' | 'jobId' | 'executorId' | 'signal'> & { readonly storage: RefStorage };
  bucket: string | undefined;
}

/** The result a successful status stands for: inline, or its `output` object; a stored stream as a reader. */
export async function statusValue(
  storage: RefStorage,
  bucket: string,
  jobKey: string,
  status: StoredStatus,
): Promise<unknown> {
  const bytes =
    status.output !== undefined
      ? Buffer.from(status.output, 'base64')
      : status.outputStored
        ? await storage.get(bucket, keys.output(jobKey, status.callId, status.attempt))
        : new Uint8Array(0);
  if (bytes.length === 0) return undefined;
  const value = decode(bytes, `result of call ${status.callId} of ${jobKey}`);
  const info = storedResultInfo(value);
  return info ? new UpstreamStoredResult(info, storage) : value;
}

/** The error of a call whose input came from a call that failed: names both. */
export function upstreamError(
  ref: { executorId: string; jobId: string; callId: number },
  failed: Pick<SerializedError, 'name' | 'message'> & { code?: string; properties?: Record<string, unknown> },
  env: ResolveEnv,
): UpstreamError {
  const { ctx } = env;
  const code = failed.code ?? (typeof failed.properties?.code === 'string' ? failed.properties.code : undefined);
  return new UpstreamError(
    `call ${ctx.callId} of job ${ctx.jobId} did not run: its input is the result of call ${ref.callId} of job ${ref.jobId}, which failed with ${failed.name}: ${failed.message}`,
    { jobId: ref.jobId, executorId: ref.executorId, callId: ref.callId, ...(code ? { code } : {}) },
    { callId: ctx.callId, jobId: ctx.jobId, executorId: ctx.executorId },
  );
}
