/**
 * Running some calls of a job again, after the job was submitted: the failed calls of a finished job
 * (`retryFailed`), and the calls an attached job's dead client never sent (`attach` with `resubmit`).
 * Each job that can be re-run registers how, per ExecutorParts: a storage job needs only its
 * manifest (its inputs are in storage, so another process can re-run it too); an IPC job's inputs
 * live in the client that submitted it, so only that client can.
 */
import { BurstError } from '../errors.js';
import type { JobDescriptor } from '../backends/types.js';
import type { CallRecord } from '../worker/protocol.js';
import type { Future } from './future.js';
import type { ExecutorParts } from './parts.js';
import { recordValue } from './lazy-result.js';
import { settle, type SubmitOptions } from './settle.js';

/** One call to run, and the attempt it runs as. */
export interface CallAttempt {
  callId: number;
  attempt: number;
}

/**
 * Runs the calls again; each settles (or is retried within the job's `retries`, counted from its
 * attempt) the future at its call id in `target`.
 */
export type Rerunner = (calls: readonly CallAttempt[], target: ReadonlyMap<number, Future<unknown>>) => Promise<void>;

const registry = new WeakMap<ExecutorParts, Map<string, Rerunner>>();

/** Records how to re-run the calls of one job of these parts. */
export function registerRerun(parts: ExecutorParts, jobId: string, rerun: Rerunner): void {
  let jobs = registry.get(parts);
  if (!jobs) registry.set(parts, (jobs = new Map()));
  jobs.set(jobId, rerun);
}

/** How to re-run calls of a job, or undefined when these parts cannot (an IPC job of another client). */
export function rerunnerOf(parts: ExecutorParts, jobId: string): Rerunner | undefined {
  return registry.get(parts)?.get(jobId);
}

/** Marks a re-run call's future as handed to the backend, as the given attempt. */
export function markInvoked(f: Future<unknown> | undefined, attempt: number): void {
  if (!f) return;
  f._stat('attempt', attempt);
  f._stat('invoked', Date.now());
  f._setStatus('invoked');
}

/** The rerunner of a job whose inputs are in storage: invoke the backend, watch storage, settle. */
export function storageRerunner(parts: ExecutorParts, job: JobDescriptor, o: SubmitOptions): Rerunner {
  return async (calls, target) => {
    const { backend, storage, monitor } = await parts.ready();
    const context = { jobId: job.jobId, executorId: job.executorId, backend: backend.name };
    const first = new Map(calls.map((c) => [c.callId, c.attempt]));
    const futures: Future<unknown>[] = [];
    for (const [id, f] of target) futures[id] = f;
    const onRecord = (record: CallRecord): void => {
      // Retries are counted from the attempt this re-run started at.
      const retries = o.retries + (first.get(record.callId) ?? 1) - 1;
      const value = (): unknown =>
        recordValue(record, storage, {
          ...context,
          callId: record.callId,
          attempt: record.attempt,
        });
      settle(
        futures,
        record,
        { ...o, retries },
        context,
        value,
        (callId, attempt, memoryMB) => void invoke([callId], attempt, memoryMB),
      );
    };
    const invoke = async (ids: number[], attempt: number, memoryMB?: number): Promise<void> => {
      monitor.expect(job, ids, attempt, onRecord);
      try {
        await backend.invoke(memoryMB ? { ...job, runtimeMemoryMB: memoryMB } : job, ids, attempt);
      } catch (err) {
        const error =
          err instanceof BurstError
            ? err
            : new BurstError(
                'SUBMIT_REJECTED',
                `re-running calls ${ids.join(', ')} of job ${job.jobId} failed: ${(err as Error)?.message ?? String(err)}`,
                { ...context, cause: err },
              );
        for (const id of ids) futures[id]?._reject(error);
      }
    };
    const byAttempt = new Map<number, number[]>();
    for (const c of calls) {
      markInvoked(futures[c.callId], c.attempt);
      let ids = byAttempt.get(c.attempt);
      if (!ids) byAttempt.set(c.attempt, (ids = []));
      ids.push(c.callId);
    }
    await Promise.all([...byAttempt].map(([attempt, ids]) => invoke(ids, attempt)));
  };
}
