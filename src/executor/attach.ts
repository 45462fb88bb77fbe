/**
 * Attaching to an executor's jobs from another process (after the first client died): every call
 * whose status is in storage settles its future from its newest attempt (results are read, never
 * recomputed); calls without a status stay pending and are watched, in case their workers are still
 * running. With `resubmit`, calls that no worker ever claimed (the dead client never sent them) are
 * run, and only those, so no call runs twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BurstError } from '../errors.js';
import type { JobDescriptor } from '../backends/types.js';
import { toBurstError } from '../serialize/errors.js';
import { isPrefixEntry } from '../storage/types.js';
import { readClaims, readJobStatuses } from '../job/reader.js';
import { keys, parseJobKey } from '../job/layout.js';
import { decodeManifest, type JobManifest } from '../job/manifest.js';
import type { CallRecord } from '../worker/protocol.js';
import type { Future } from './future.js';
import { FutureJob } from './future-job.js';
import { leaseAlive, readLease, type LeaseRecord } from '../job/lease.js';
import { registerRerun, storageRerunner } from './rerun.js';
import { settle, type SubmitOptions } from './settle.js';
import { recordValue } from './lazy-result.js';
import type { ExecutorParts } from './parts.js';

/** The futures of one stored job. */
export interface AttachedJob {
  manifest: JobManifest;
  futures: Future<unknown>[];
  /** Calls run again because no worker had claimed them (with `resubmit`). */
  resubmitted: number[];
}

/** What {@link attachJobs} does beyond collecting. */
export interface AttachJobsOptions {
  /** Run the calls no worker claimed. */
  resubmit: boolean;
  /** Called once before the first call is resubmitted (the executor takes the lease). */
  beforeResubmit: () => Promise<void>;
}

/** Finds the executor's jobs in storage and builds their futures, settling those that finished. */
export async function attachJobs(
  parts: ExecutorParts,
  executorId: string,
  options: AttachJobsOptions,
): Promise<AttachedJob[]> {
  const { storage, backend } = await parts.ready();
  const bucket = parts.options.bucket;
  const lease = await readLease(storage, bucket, executorId);
  const jobs: AttachedJob[] = [];
  let leaseTaken = false;
  for await (const entry of storage.list(bucket, keys.executor(executorId), { delimiter: '/' })) {
    if (!isPrefixEntry(entry)) continue;
    const jobKey = parseJobKey(entry.prefix)?.jobKey;
    if (jobKey === undefined) continue;
    let manifest: JobManifest;
    try {
      manifest = decodeManifest(await storage.get(bucket, keys.manifest(jobKey)), {
        bucket,
        key: keys.manifest(jobKey),
      });
    } catch {
      continue; // a job whose manifest was never written or was cleaned
    }
    const futures = Array.from({ length: manifest.callCount }, (_, i) =>
      FutureJob.alone<unknown>(executorId, manifest.jobId, i),
    );
    const context = { jobId: manifest.jobId, executorId, backend: backend.name };
    let resubmitted: number[] = [];
    if (manifest.channel === 'ipc') {
      await attachIpcJob(parts, manifest, futures, jobKey, leaseAlive(lease), context);
    } else {
      const job: JobDescriptor = {
        executorId,
        jobId: manifest.jobId,
        bucket,
        jobKey,
        storage: storage.config,
        callCount: manifest.callCount,
        chunksize: 1,
        timeoutSeconds: manifest.timeoutSeconds,
        env: manifest.env,
        ...(manifest.runtimeMemoryMB ? { runtimeMemoryMB: manifest.runtimeMemoryMB } : {}),
      };
      const o: SubmitOptions = {
        timeout: manifest.timeoutSeconds,
        retries: parts.options.retries,
        env: manifest.env,
        hasArgs: manifest.args !== undefined,
        args: undefined,
      };
      // Calls re-run from here on (retryFailed, resubmit) invoke the backend from the stored job.
      registerRerun(parts, manifest.jobId, storageRerunner(parts, job, o));
      if (options.resubmit && !leaseTaken) {
        await waitForClientGone(lease, executorId);
        await options.beforeResubmit();
        leaseTaken = true;
      }
      const unclaimed = await watchStoredJob(parts, job, futures, o);
      if (options.resubmit && unclaimed.length > 0) {
        await storageRerunner(
          parts,
          job,
          o,
        )(
          unclaimed.map((callId) => ({ callId, attempt: 1 })),
          new Map(unclaimed.map((id) => [id, futures[id] as Future<unknown>])),
        );
        resubmitted = unclaimed;
      }
    }
    jobs.push({ manifest, futures, resubmitted });
  }
  jobs.sort((a, b) => a.manifest.createdAt - b.manifest.createdAt);
  return jobs;
}

/**
 * How long after a client's lease ran out `resubmit` still waits: a worker the client started just
 * before it died needs a moment to start and claim its calls, and must not be run twice.
 */
const CLAIM_GRACE_MS = 5000;
/** Beyond a claimed call's timeout, how long its status may take to be written and seen. */
const CLAIM_SLACK_MS = 15_000;

/** Refuses to resubmit while the client lives; waits out the claim grace after its lease ran out. */
async function waitForClientGone(lease: LeaseRecord | undefined, executorId: string): Promise<void> {
  if (leaseAlive(lease)) {
    throw new BurstError(
      'CLIENT_ALIVE',
      `the client of executor ${executorId} (${lease?.holder}) still holds its lease until ${new Date(lease?.expiresAt ?? 0).toISOString()}: resubmitting now could run calls twice; attach without resubmit, or once it is gone`,
      { executorId },
    );
  }
  const wait = (lease?.expiresAt ?? 0) + CLAIM_GRACE_MS - Date.now();
  if (wait > 0) await sleep(wait);
}

/**
 * Settles the futures of a storage job from the newest attempt of each call's status, and watches
 * the calls left; resolves with the calls that have neither a status nor a worker's claim.
 */
async function watchStoredJob(
  parts: ExecutorParts,
  job: JobDescriptor,
  futures: Future<unknown>[],
  o: SubmitOptions,
): Promise<number[]> {
  const { storage, monitor, backend } = await parts.ready();
  const [statuses, claims] = await Promise.all([
    readJobStatuses(storage, job.bucket, job.jobKey),
    readClaims(storage, job.bucket, job.jobKey),
  ]);
  const context = { jobId: job.jobId, executorId: job.executorId, backend: backend.name };
  const newest = new Map(statuses.map((s) => [s.callId, s.attempt]));
  // Stored failures are final here (no retry on attach): `retryFailed` runs them again on request.
  const onRecord = (record: CallRecord): void => {
    const value = (): unknown =>
      recordValue(record, storage, {
        ...context,
        callId: record.callId,
        attempt: record.attempt,
      });
    settle(futures, record, { ...o, retries: 0 }, context, value, () => {});
    const f = futures[record.callId];
    if (f) f._stat('attempt', record.attempt);
  };
  const byAttempt = new Map<number, number[]>();
  for (let id = 0; id < futures.length; id++) {
    // A worker that claimed a newer attempt than the newest status may still write it: wait for that one.
    const attempt = Math.max(newest.get(id) ?? 1, claims.get(id)?.attempt ?? 1);
    let ids = byAttempt.get(attempt);
    if (!ids) byAttempt.set(attempt, (ids = []));
    ids.push(id);
  }
  // Each call waits for its newest attempt, so an older attempt's status never settles it.
  for (const [attempt, ids] of byAttempt) monitor.expect(job, ids, attempt, onRecord);
  // No backend here knows where a claimed call runs: one whose worker died would wait forever, so
  // it fails once the claim is older than the job's timeout allows (times the calls claimed with it).
  for (const [id, claim] of claims) {
    if ((newest.get(id) ?? 0) >= claim.attempt) continue;
    const deadline = (claim.claimedAt ?? Date.now()) + job.timeoutSeconds * 1000 * claim.batch + CLAIM_SLACK_MS;
    setTimeout(
      () => {
        const f = futures[id];
        if (!f || f.done) return;
        const now = Date.now();
        onRecord({
          callId: id,
          ok: false,
          attempt: claim.attempt,
          error: {
            kind: 'crash',
            name: 'WorkerCrashError',
            message: `call ${id} of job ${job.jobId} was taken by a worker at ${new Date(claim.claimedAt ?? now).toISOString()} (attempt ${claim.attempt}) but has no result after its ${job.timeoutSeconds} s timeout: its worker is gone; retryFailed() runs it again`,
          },
          stats: {
            workerStart: now,
            fnStart: now,
            fnEnd: now,
            cold: true,
            bytesIn: 0,
            bytesOut: 0,
            hostname: '',
            pid: 0,
          },
        });
      },
      Math.max(0, deadline - Date.now()),
    ).unref();
  }
  return futures.map((_, id) => id).filter((id) => !newest.has(id) && !claims.has(id));
}

/** IPC jobs keep results in the client that ran them: finished calls say so; lost ones fail. */
async function attachIpcJob(
  parts: ExecutorParts,
  manifest: JobManifest,
  futures: Future<unknown>[],
  jobKey: string,
  clientAlive: boolean,
  context: { jobId: string; executorId: string; backend: string },
): Promise<void> {
  {
    const { storage } = await parts.ready();
    const statuses = await readJobStatuses(storage, parts.options.bucket, jobKey);
    for (const s of statuses) {
      const f = futures[s.callId];
      if (!f) continue;
      f._stat('attempt', s.attempt);
      f._reject(
        s.ok
          ? new BurstError(
              'RESULT_NOT_STORED',
              `call ${s.callId} of job ${manifest.jobId} succeeded, but it ran over the localhost IPC channel, whose results stay in the client that ran it; use localhost: { channel: 'storage' } or a remote backend to keep results in storage`,
              { ...context, callId: s.callId },
            )
          : toBurstError(s.error ?? { kind: 'crash', name: 'Error', message: 'failed' }, {
              ...context,
              callId: s.callId,
            }),
        s.logs,
      );
    }
    if (clientAlive) return;
    // Its client is gone, and the inputs of an IPC job lived only there: nothing can finish these.
    for (const f of futures) {
      if (f.done) continue;
      f._reject(
        new BurstError(
          'CLIENT_LOST',
          `call ${f.callId} of job ${manifest.jobId} never finished, and its client is gone: the job ran over the localhost IPC channel, whose inputs live only in the client, so it cannot be resubmitted; use localhost: { channel: 'storage' } or a remote backend for jobs that can be attached and resubmitted`,
          { ...context, callId: f.callId },
        ),
      );
    }
  }
}
