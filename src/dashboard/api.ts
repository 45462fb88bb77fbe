/**
 * The data behind the dashboard's JSON API, read from storage: the jobs with their counts, one job in
 * detail (calls, summary, failures), a call's logs and the timeline SVG. Status objects are cached by
 * version so a poll fetches only what changed, and the counts of finished jobs are kept.
 */
import { redactRecord } from '../redact.js';
import type { StorageDriver } from '../storage/types.js';
import {
  callsOf,
  countCalls,
  jobState,
  listJobs,
  resolveJob,
  type JobCounts,
  type JobInfo,
  type JobState,
} from '../stats/catalog.js';
import { readJobStatuses, type StatusCache, type StoredCallStatus } from '../job/reader.js';
import { summarizeJob } from '../stats/summary.js';
import type { CallLike, JobSummary } from '../stats/types.js';

/** A job in the list. */
export interface JobListItem extends JobCounts {
  /** `<executor>/<job>`: how the API and the page name a job. */
  key: string;
  executorId: string;
  jobId: string;
  function: string | null;
  createdAt: number | null;
  /** done, running (its client holds its lease) or abandoned (calls left, client gone). */
  state: JobState;
}

/** One call, compact, for the page's grid and timeline. */
export interface CallView {
  id: number;
  state: 'success' | 'error' | 'pending';
  attempt: number;
  host: string | null;
  pid: number | null;
  fnStart: number | null;
  fnEnd: number | null;
  error: { name: string; message: string } | null;
  hasLogs: boolean;
}

/** A failed call with what the user needs to see why. */
export interface FailureView {
  id: number;
  attempt: number;
  host: string | null;
  error: { name: string; message: string; stack: string | null };
  logs: string;
}

/** One job in detail. */
export interface JobDetail {
  key: string;
  executorId: string;
  jobId: string;
  function: string | null;
  createdAt: number | null;
  timeoutSeconds: number | null;
  counts: JobCounts;
  /** done, running or abandoned, as in the job list. */
  state: JobState;
  summary: JobSummary;
  calls: CallView[];
  failures: FailureView[];
  /** Changes whenever a status record does: the page re-fetches the timeline only then. */
  version: string;
  now: number;
}

/** Reads what the dashboard shows, with caches that live as long as the server. */
export class DashboardData {
  private readonly caches = new Map<string, StatusCache>();
  private readonly finished = new Map<string, JobCounts>();

  constructor(
    readonly storage: StorageDriver,
    readonly bucket: string,
  ) {}

  /** Every job in storage, newest executor first. */
  async jobs(): Promise<JobListItem[]> {
    const jobs = await listJobs(this.storage, this.bucket);
    return Promise.all(
      jobs.map(async (job) => {
        const key = `${job.executorId}/${job.jobId}`;
        let counts = this.finished.get(key);
        if (!counts) {
          counts = countCalls(job, await this.statuses(job));
          if (job.manifest && counts.pending === 0) this.finished.set(key, counts);
        }
        return {
          key,
          executorId: job.executorId,
          jobId: job.jobId,
          function: job.manifest?.functionName ?? null,
          createdAt: job.manifest?.createdAt ?? null,
          ...counts,
          state: jobState(job, counts),
        };
      }),
    );
  }

  /** One job in detail; `ref` as `burst logs` takes it. */
  async job(ref: string): Promise<JobDetail> {
    const job = await resolveJob(this.storage, this.bucket, ref);
    const statuses = await this.statuses(job);
    const counts = countCalls(job, statuses);
    const calls = callsOf(job, statuses);
    const byId = new Map(statuses.map((s) => [s.callId, s]));
    const failures = statuses.filter((s) => !s.ok).map((s) => failure(s));
    return {
      key: `${job.executorId}/${job.jobId}`,
      executorId: job.executorId,
      jobId: job.jobId,
      function: job.manifest?.functionName ?? null,
      createdAt: job.manifest?.createdAt ?? null,
      timeoutSeconds: job.manifest?.timeoutSeconds ?? null,
      counts,
      state: jobState(job, counts),
      summary: summarizeJob(calls),
      calls: calls.map((c) => view(c, byId.get(c.callId))),
      failures,
      version: statuses.map((s) => `${s.callId}.${s.attempt}.${s.ok ? 1 : 0}`).join(','),
      now: Date.now(),
    };
  }

  /** The stored record of one call, or undefined while it has none. */
  async call(ref: string, callId: number): Promise<StoredCallStatus | undefined> {
    const job = await resolveJob(this.storage, this.bucket, ref);
    return (await this.statuses(job)).find((s) => s.callId === callId);
  }

  /** The timeline of a job as SVG; unfinished calls extend to now. */
  async timeline(ref: string, width: number): Promise<string> {
    const job = await resolveJob(this.storage, this.bucket, ref);
    const calls: CallLike[] = callsOf(job, await this.statuses(job));
    const { timelineSvg } = await import('../stats/plot.js');
    return timelineSvg(calls, { width, now: Date.now() });
  }

  private statuses(job: JobInfo): Promise<StoredCallStatus[]> {
    let cache = this.caches.get(job.jobKey);
    if (!cache) this.caches.set(job.jobKey, (cache = new Map()));
    return readJobStatuses(this.storage, this.bucket, job.jobKey, cache).then((records) => records.map(redactRecord)); // the API never serves a secret
  }
}

function view(c: CallLike, s: StoredCallStatus | undefined): CallView {
  return {
    id: c.callId,
    state: c.status === 'success' ? 'success' : c.status === 'error' ? 'error' : 'pending',
    attempt: c.stats.attempt ?? 1,
    host: c.stats.hostname ?? null,
    pid: c.stats.pid ?? null,
    fnStart: c.stats.fnStart ?? null,
    fnEnd: c.stats.fnEnd ?? null,
    error: c.error ? { name: c.error.name, message: c.error.message } : null,
    hasLogs: Boolean(s?.logs),
  };
}

function failure(s: StoredCallStatus): FailureView {
  const e = s.error ?? { name: 'Error', message: 'the call failed without an error record' };
  return {
    id: s.callId,
    attempt: s.attempt,
    host: s.stats.hostname ? `${s.stats.hostname} pid ${s.stats.pid ?? '?'}` : null,
    error: { name: e.name, message: e.message, stack: 'stack' in e && typeof e.stack === 'string' ? e.stack : null },
    logs: tail(s.logs ?? '', 40),
  };
}

function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.length > lines
    ? `… (${all.length - lines} earlier lines)\n${all.slice(-lines).join('\n')}`
    : all.join('\n');
}
