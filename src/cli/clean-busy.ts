/**
 * What `burst clean` must not delete under another process's feet: jobs whose calls have not all
 * reported (waiting or running). Deleting such a job makes its remaining calls fail with
 * JobNotFoundError (`JOB_DELETED`), so `burst clean` keeps them unless `--force`.
 */
import { countCalls, listJobs, type JobInfo } from '../stats/catalog.js';
import { forEachLimit, readJobStatuses } from '../job/reader.js';
import type { StorageDriver } from '../storage/types.js';

/** A job with calls that have not reported yet. */
export interface BusyJob {
  job: JobInfo;
  pending: number;
  calls: number;
}

/**
 * The jobs under `target` (every job when undefined; an executor id; or `<executor>/<job>`) that still
 * have calls without a status record.
 */
export async function busyJobs(storage: StorageDriver, bucket: string, target: string | undefined): Promise<BusyJob[]> {
  if (!(await storage.bucketExists(bucket))) return [];
  const [executorId, jobId] =
    target === undefined ? [undefined, undefined] : (target.split('/') as [string, string | undefined]);
  const jobs = (await listJobs(storage, bucket, executorId)).filter((j) => jobId === undefined || j.jobId === jobId);
  const busy: Array<BusyJob | undefined> = new Array(jobs.length);
  await forEachLimit(
    jobs.map((j, i) => [j, i] as const),
    8,
    async ([job, i]) => {
      const counts = countCalls(job, await readJobStatuses(storage, bucket, job.jobKey));
      if (counts.pending > 0) busy[i] = { job, pending: counts.pending, calls: counts.calls };
    },
  );
  return busy.filter((b): b is BusyJob => b !== undefined);
}

/** One line per busy job: which job, how many calls have not reported, and how old it is. */
export function describeBusy(busy: readonly BusyJob[], now = Date.now()): string[] {
  return busy.map(({ job, pending, calls }) => {
    const created = job.manifest?.createdAt;
    const age = created === undefined ? '' : `, created ${formatAge(now - created)} ago`;
    return `${job.executorId}/${job.jobId}: ${pending} of ${calls} call${calls === 1 ? '' : 's'} still pending or running${age}`;
  });
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
