/**
 * Applying a call's record to its future (resolve, reject, or retry within `retries`), shared by the
 * first run of a job (submit.ts) and later re-runs of some of its calls (rerun.ts).
 */
import { toBurstError } from '../serialize/errors.js';
import type { CallRecord } from '../worker/protocol.js';
import { asBurstError } from './as-burst-error.js';
import type { Future } from './future.js';
import { futureAt } from './future-job.js';
import { grownMemory, type OomRetry } from './resources.js';

/** A call record with the time its status was written, when known. */
export type StampedRecord = CallRecord & { storedAt?: number };

/** Per-submission settings, resolved against the executor's. */
export interface SubmitOptions {
  timeout: number;
  retries: number;
  env: Record<string, string>;
  hasArgs: boolean;
  args: unknown;
  chunksize?: number;
  /** Memory of the map's calls in MB, when set on the map. */
  runtimeMemoryMB?: number;
  /** Retry out-of-memory calls with more memory (resolved). */
  oomRetry?: Required<OomRetry>;
  /** The memory each call's latest attempt ran with, for `oomRetry`; filled in as calls grow. */
  memoryOf?: Map<number, number>;
  /** Set with `cache: true`: what the result cache keys calls by besides their inputs (./cache.ts). */
  cache?: import('./cache.js').CacheScope;
  /** Set with `speculative`: when to start backup copies of slow calls (./speculate.ts). */
  speculative?: import('./speculate.js').Speculation;
  /** Starts the client's primitives server when an IPC worker's task first uses it (../primitives/host.ts). */
  startPrimitives?: () => Promise<void>;
}

/** Errors that will fail the same way again: never retried. */
const NOT_RETRIED = new Set([
  'SERIALIZATION',
  'PACKAGING',
  'INTEGRITY',
  'CANCELLED',
  'VERSION_MISMATCH',
  'UPSTREAM_FAILED',
]);

/** Applies one record to its future: resolve, reject, or retry. */
export function settle(
  futures: Future<unknown>[],
  record: CallRecord,
  o: SubmitOptions,
  context: { jobId: string; executorId: string; backend: string },
  value: () => unknown,
  retry: (callId: number, attempt: number, memoryMB?: number) => void,
): void {
  const f = futureAt(futures, record.callId);
  if (!f || f.done) return;
  const s = record.stats;
  const stored = (record as StampedRecord).storedAt;
  f._workerStats(s, stored);
  if (record.ok) {
    try {
      f._resolve(value(), record.logs);
    } catch (err) {
      f._reject(asBurstError(err, { ...context, callId: record.callId }), record.logs);
    }
    return;
  }
  const error = toBurstError(
    record.error ?? { kind: 'crash', name: 'Error', message: 'the worker reported a failure without an error' },
    {
      ...context,
      callId: record.callId,
      attempt: record.attempt,
      ...(record.logs ? { logsTail: lastLines(record.logs, 10) } : {}),
      ...(s.location ? { logLocation: s.location.text } : {}),
    },
  );
  // Out of memory with oomRetry: again with more memory, whatever `retries` says, up to maxMemory.
  const base = o.memoryOf?.get(record.callId) ?? o.runtimeMemoryMB;
  const grown =
    error.code === 'OUT_OF_MEMORY' && o.oomRetry && base !== undefined ? grownMemory(base, o.oomRetry) : undefined;
  if (grown !== undefined) {
    o.memoryOf?.set(record.callId, grown);
    f._retry(error);
    retry(record.callId, record.attempt + 1, grown);
    return;
  }
  if (record.attempt <= o.retries && !NOT_RETRIED.has(error.code)) {
    f._retry(error);
    retry(record.callId, record.attempt + 1);
    return;
  }
  f._reject(error, record.logs);
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
