/**
 * The executors and jobs found in storage (`burst/jobs/<executor>/<job>/`), their manifests, and
 * their calls rebuilt from the status records, as {@link CallLike} values that the summary and plot
 * functions take. A job run over the localhost IPC channel may have status batches and no manifest:
 * its call count is then what the records show.
 */
import { BurstError, MalformedRecordError, NoSuchKeyError } from '../errors.js';
import type { StorageDriver } from '../storage/types.js';
import { keys, parseExecutorKey, parseJobKey, withoutJobsPrefix } from '../job/layout.js';
import { decodeManifest, type JobManifest } from '../job/manifest.js';
import { leaseAlive, readLease, type LeaseRecord } from '../job/lease.js';
import { forEachLimit, readJobStatuses, type StatusCache, type StoredCallStatus } from '../job/reader.js';
import type { CallLike, CallState } from './types.js';

/** A job found in storage. */
export interface JobInfo {
  executorId: string;
  jobId: string;
  /** `burst/jobs/<executor>/<job>`. */
  jobKey: string;
  /** The manifest's facts, when the job has one. */
  manifest?: Pick<
    JobManifest,
    'callCount' | 'createdAt' | 'functionName' | 'functionHash' | 'burstVersion' | 'timeoutSeconds'
  > & { submittedAt?: number; channel?: JobManifest['channel'] };
  /** The executor's client lease, when one is stored (see job/lease.ts). */
  lease?: LeaseRecord;
}

/**
 * Where a job stands: `done` when every call has a status, `running` while calls are left and its
 * client holds its lease, `abandoned` when calls are left and no client does (it was killed, or
 * closed before they finished): they will not finish unless the job is attached with `resubmit`.
 */
export type JobState = 'done' | 'running' | 'abandoned';

/** The state of a job from its counts and lease, at `now`. */
export function jobState(job: JobInfo, counts: JobCounts, now = Date.now()): JobState {
  if (counts.pending === 0) return 'done';
  return leaseAlive(job.lease, now) ? 'running' : 'abandoned';
}

/** Why a job is abandoned, in one sentence for the CLI and the dashboard. */
export function abandonedReason(job: JobInfo, counts: JobCounts): string {
  const since = job.lease
    ? `its client (${job.lease.holder}) stopped renewing its lease at ${new Date(job.lease.expiresAt).toISOString()}`
    : 'no client holds its lease';
  return `job ${job.executorId}/${job.jobId} is abandoned: ${since}, and ${counts.pending} of ${counts.calls} calls have no result; FunctionExecutor.attach('${job.executorId}', { resubmit: true }) runs the calls that never ran`;
}

/** Counts of a job's calls by what storage shows. */
export interface JobCounts {
  /** From the manifest, else the number of calls with a record. */
  calls: number;
  success: number;
  error: number;
  /** Calls with no status record yet (waiting or running). */
  pending: number;
  /** Successful calls whose result came from the result cache (they did not run). */
  cached: number;
}

/** Executor ids found in storage, newest first (ids start with their creation time). */
export async function listExecutors(storage: StorageDriver, bucket: string): Promise<string[]> {
  if (!(await storage.bucketExists(bucket))) return [];
  const out: string[] = [];
  for await (const e of storage.list(bucket, keys.jobsPrefix, { delimiter: '/' })) {
    const executorId = 'prefix' in e ? parseExecutorKey(e.prefix) : undefined;
    if (executorId !== undefined) out.push(executorId);
  }
  return out.sort((a, b) => compareIds(b, a));
}

/** Jobs of one executor (or of all), with their manifests; newest executor first, jobs in order. */
export async function listJobs(storage: StorageDriver, bucket: string, executorId?: string): Promise<JobInfo[]> {
  if (executorId !== undefined && !(await storage.bucketExists(bucket))) return [];
  const executors = executorId === undefined ? await listExecutors(storage, bucket) : [executorId];
  const refs: Array<[string, string]> = [];
  for (const ex of executors) {
    const prefix = keys.executor(ex);
    const jobs: string[] = [];
    for await (const e of storage.list(bucket, prefix, { delimiter: '/' })) {
      const jobId = 'prefix' in e ? parseJobKey(e.prefix)?.jobId : undefined;
      if (jobId !== undefined) jobs.push(jobId);
    }
    for (const j of jobs.sort(compareJobIds)) refs.push([ex, j]);
  }
  const leases = new Map<string, Promise<LeaseRecord | undefined>>();
  for (const ex of executors) leases.set(ex, readLease(storage, bucket, ex));
  const out: JobInfo[] = new Array(refs.length);
  await forEachLimit(
    refs.map((r, i) => [r, i] as const),
    16,
    async ([[ex, j], i]) => {
      out[i] = await readJobInfo(storage, bucket, ex, j, leases.get(ex));
    },
  );
  return out;
}

/** One job's info; `manifest` is missing when the job has none (yet). */
export async function readJobInfo(
  storage: StorageDriver,
  bucket: string,
  executorId: string,
  jobId: string,
  lease?: Promise<LeaseRecord | undefined>,
): Promise<JobInfo> {
  const jobKey = keys.job(executorId, jobId);
  const info: JobInfo = { executorId, jobId, jobKey };
  const held = await (lease ?? readLease(storage, bucket, executorId));
  if (held) info.lease = held;
  try {
    const m = decodeManifest(await storage.get(bucket, keys.manifest(jobKey)), { bucket, key: keys.manifest(jobKey) });
    info.manifest = {
      callCount: m.callCount,
      createdAt: m.createdAt,
      functionName: m.functionName,
      functionHash: m.functionHash,
      burstVersion: m.burstVersion,
      timeoutSeconds: m.timeoutSeconds,
      ...(m.submittedAt !== undefined ? { submittedAt: m.submittedAt } : {}),
      ...(m.channel ? { channel: m.channel } : {}),
    };
  } catch (err) {
    // A manifest that is not one (or of another format) is shown as a job without one.
    if (
      !(err instanceof NoSuchKeyError) &&
      !(err instanceof MalformedRecordError) &&
      !(err instanceof BurstError && err.code === 'VERSION_MISMATCH')
    )
      throw err;
  }
  return info;
}

/**
 * Finds a job from what a user types: `<executor>/<job>`, the full key `burst/jobs/<executor>/<job>`,
 * a job id alone (the newest executor that has it) or `latest` (the newest job).
 * @throws BurstError with code `NO_SUCH_JOB` naming what exists.
 */
export async function resolveJob(storage: StorageDriver, bucket: string, ref: string): Promise<JobInfo> {
  const parts = withoutJobsPrefix(ref).replace(/\/+$/, '').split('/');
  if (parts.length === 2 && parts[0] && parts[1]) {
    const [ex, j] = parts as [string, string];
    const jobs = await listJobs(storage, bucket, ex);
    const found = jobs.find((x) => x.jobId === j);
    if (found) return found;
    throw noSuchJob(
      `no job "${j}" in executor "${ex}"`,
      jobs.length
        ? `its jobs: ${jobs.map((x) => x.jobId).join(', ')}`
        : `executor "${ex}" has no jobs in bucket "${bucket}"`,
    );
  }
  if (parts.length !== 1 || !parts[0])
    throw noSuchJob(`"${ref}" is not a job reference`, 'use <executor>/<job>, a job id such as M000, or latest');
  const executors = await listExecutors(storage, bucket);
  for (const ex of executors) {
    const jobs = await listJobs(storage, bucket, ex);
    if (ref === 'latest' && jobs.length > 0) return newest(jobs);
    const found = jobs.find((x) => x.jobId === ref);
    if (found) return found;
  }
  throw noSuchJob(
    `no job "${ref}" in bucket "${bucket}"`,
    executors.length ? 'list the jobs with `burst jobs`' : 'storage holds no jobs yet',
  );
}

function newest(jobs: JobInfo[]): JobInfo {
  return jobs.reduce((a, b) =>
    (b.manifest?.createdAt ?? 0) > (a.manifest?.createdAt ?? 0) ||
    (!a.manifest && !b.manifest && compareJobIds(b.jobId, a.jobId) > 0)
      ? b
      : a,
  );
}

function noSuchJob(what: string, hint: string): BurstError {
  return new BurstError('NO_SUCH_JOB', `${what}; ${hint}`);
}

/** Counts a job's calls by state. */
export function countCalls(job: JobInfo, statuses: readonly StoredCallStatus[]): JobCounts {
  const success = statuses.filter((s) => s.ok).length;
  const error = statuses.length - success;
  const calls = Math.max(job.manifest?.callCount ?? 0, statuses.length);
  const cached = statuses.filter((s) => s.ok && s.stats.cached === true).length;
  return { calls, success, error, pending: calls - statuses.length, cached };
}

/** Reads a job's statuses and rebuilds its calls (calls without a record are `invoked`). */
export async function readJobCalls(
  storage: StorageDriver,
  bucket: string,
  job: JobInfo,
  cache?: StatusCache,
): Promise<{ statuses: StoredCallStatus[]; calls: CallLike[] }> {
  const statuses = await readJobStatuses(storage, bucket, job.jobKey, cache);
  return { statuses, calls: callsOf(job, statuses) };
}

/** The calls of a job as the stats functions take them. */
export function callsOf(job: JobInfo, statuses: readonly StoredCallStatus[]): CallLike[] {
  const byId = new Map(statuses.map((s) => [s.callId, s]));
  const count = Math.max(
    job.manifest?.callCount ?? 0,
    statuses.length ? (statuses[statuses.length - 1] as StoredCallStatus).callId + 1 : 0,
  );
  const created = job.manifest?.createdAt;
  const calls: CallLike[] = [];
  for (let id = 0; id < count; id++) {
    const s = byId.get(id);
    const base = { executorId: job.executorId, jobId: job.jobId, callId: id };
    if (!s) {
      calls.push({
        ...base,
        status: 'invoked',
        stats: {
          ...(created !== undefined ? { submitted: job.manifest?.submittedAt ?? created, invoked: created } : {}),
          attempt: 1,
        },
      });
      continue;
    }
    const status: CallState = s.ok ? 'success' : 'error';
    const { workerStart, fnStart, fnEnd, cold, bytesIn, bytesOut, hostname, pid, threadId, location } = s.stats;
    const stats = {
      submitted: job.manifest?.submittedAt ?? created,
      invoked: created,
      workerStart,
      fnStart,
      fnEnd,
      resultReceived: s.storedAt,
      stored: s.storedAt,
      cold,
      attempt: s.attempt,
      bytesIn,
      bytesOut,
      hostname: hostname || undefined,
      pid,
      ...(threadId !== undefined ? { threadId } : {}),
      ...(location ? { location } : {}),
      ...(s.stats.cached ? { cached: true } : {}),
      ...(s.stats.backup ? { backup: s.stats.backup } : {}),
    };
    const call: CallLike = {
      ...base,
      status,
      stats: dropUndefined(stats),
      ...(s.error ? { error: { name: s.error.name, message: s.error.message } } : {}),
    };
    calls.push(call);
  }
  return calls;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Orders executor ids: by length first (base-36 time prefixes grow), then by text. */
function compareIds(a: string, b: string): number {
  const ta = a.split('-')[0] ?? a;
  const tb = b.split('-')[0] ?? b;
  return ta.length - tb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Orders job ids `M000`, `R001`, `A002` by their sequence number, then by text. */
function compareJobIds(a: string, b: string): number {
  const na = Number(/\d+$/.exec(a)?.[0] ?? NaN);
  const nb = Number(/\d+$/.exec(b)?.[0] ?? NaN);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
