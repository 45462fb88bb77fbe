/**
 * Futures: one per call. A future moves new → invoked → running → success | error, keeps the call's
 * stats and logs, and settles exactly once per attempt chain (retries keep the same future).
 */
import type { BurstError } from '../errors.js';
import { CancelledError, WaitTimeoutError } from '../errors.js';
import { LazyResult } from './lazy-result.js';
import { asBurstError } from './as-burst-error.js';
import type { WorkerCallStats, WorkerIdentity } from '../worker/protocol.js';
import type { StatsColumns } from './stats-columns.js';
import type { FutureJob } from './future-job.js';

/** The state of a call. */
export type FutureStatus = 'new' | 'invoked' | 'running' | 'success' | 'error';

/** Timings (epoch ms) and facts about one call. */
export interface CallStats {
  /** When `map`/`callAsync` accepted the call. */
  submitted: number;
  /** When the call was handed to the backend. */
  invoked?: number;
  /** When the worker process that ran it started. */
  workerStart?: number;
  /** When the user's function was called and when it returned. */
  fnStart?: number;
  fnEnd?: number;
  /** When the client received the result. */
  resultReceived?: number;
  /** When the call's status record was written (the worker's write, or the client's for IPC calls): what `burst plot` reads back. */
  stored?: number;
  /** True when the call paid a worker start (first call on its process). */
  cold?: boolean;
  /** 1 on the first run, 2 after one retry, … */
  attempt: number;
  bytesIn?: number;
  bytesOut?: number;
  hostname?: string;
  pid?: number;
  /** The worker thread that ran the call, when the worker was a thread of `pid`. */
  threadId?: number;
  /** Where the platform kept the call's logs (e.g. its CloudWatch stream on AWS Lambda). */
  location?: import('../worker/protocol.js').CallLocation;
  /** True when the result came from the result cache (`cache: true`): the call did not run. */
  cached?: boolean;
  /** Set when a speculative backup of the call was started: `'won'` when the backup's result was kept, `'lost'` when the original's was. */
  backup?: 'won' | 'lost';
}

const FUTURE = Symbol.for('burst.future');
/**
 * The pending result of one call: a handle on its row of the job's columns (./future-job.ts), where
 * the call's state lives. A map's futures are made when its list is first read (see {@link FutureList}).
 */
export class Future<R = unknown> {
  /** @internal: what this future shares with the rest of its job, its state included. */
  readonly _job: FutureJob;
  /** The call's index in its job. */
  readonly callId: number;

  /** @internal: a handle on row `callId` of `job`; made by `FutureJob.handle` (`FutureJob.alone` for a future made alone). */
  constructor(job: FutureJob, callId: number) {
    this._job = job;
    this.callId = callId;
  }

  /** Current state of the call. */
  get status(): FutureStatus {
    return this._job.status(this.callId);
  }

  get executorId(): string {
    return this._job.executorId;
  }

  /** @internal: returned by the executor's `getResult` (no longer among its unread futures). */
  get _read(): boolean {
    return this._job.isRead(this.callId);
  }

  set _read(read: boolean) {
    this._job.markRead(this.callId, read);
  }

  get jobId(): string {
    return this._job.jobId;
  }

  /** The error, once the call has failed. */
  get error(): BurstError | undefined {
    return this._job.extra(this.callId)?.error;
  }

  /** @internal: the job's stats columns (row `callId`), unless this future was made alone. */
  get _cols(): StatsColumns | undefined {
    return this._job.cols;
  }

  /** Timings and sizes of the call so far, as a new object each time it is read. */
  get stats(): CallStats {
    const job = this._job;
    return job.own ?? (job.cols as StatsColumns).read(this.callId);
  }

  /** @internal: sets one field of the stats. */
  _stat<K extends keyof CallStats>(key: K, value: CallStats[K]): void {
    this._job.setStat(this.callId, key, value);
  }

  /** @internal: one field of the stats, without making the whole object. */
  _statOf<K extends keyof CallStats>(key: K): CallStats[K] {
    return this._job.statOf(this.callId, key);
  }

  /** @internal: what the worker measured for the call, and when its status was written. */
  _workerStats(s: WorkerCallStats, stored: number | undefined): void {
    this._job.workerStats(this.callId, s, stored);
  }

  /** Errors of the attempts that failed before the last one. */
  get attempts(): BurstError[] {
    const x = this._job.more(this.callId);
    x.attempts ??= [];
    return x.attempts;
  }

  /** True once the call has succeeded or failed for good. */
  get done(): boolean {
    return this._job.isDone(this.callId);
  }

  /** The call's result; rejects with its error. */
  result(options: { timeout?: number } = {}): Promise<R> {
    return this.settled(options.timeout).then(() => {
      if (this.status === 'error') throw this.error;
      return this._load();
    });
  }

  /** @internal: fetches a result stored apart (./lazy-result.ts) once; later reads get the value. */
  _load(): Promise<R> {
    const job = this._job;
    const id = this.callId;
    const lazy = job.valueOf(id);
    if (!(lazy instanceof LazyResult)) return Promise.resolve(lazy as R);
    const x = job.more(id);
    x.loading ??= lazy.load().then(
      (value) => {
        job.setValue(id, value);
        return value;
      },
      (err: unknown) => {
        x.loading = undefined; // a storage hiccup: the next read tries again
        throw asBurstError(err, { jobId: this.jobId, executorId: this.executorId, backend: '', callId: id });
      },
    );
    return x.loading as Promise<R>;
  }

  /**
   * Cancels the call: a call not started never starts, a running one gets its `ctx.signal` aborted
   * (on the localhost backend its process is killed and replaced if it has not returned after a
   * short grace). The future settles at once with a CancelledError. Returns false when it was done.
   */
  cancel(reason = 'cancelled by the caller'): boolean {
    if (this.done) return false;
    const control = this._job.control;
    if (control) control.cancel([this.callId], reason);
    else
      this._reject(
        new CancelledError(`call ${this.callId} of job ${this.jobId} was cancelled: ${reason}`, {
          callId: this.callId,
          jobId: this.jobId,
          executorId: this.executorId,
        }),
      );
    return true;
  }

  /** What the call printed to stdout and stderr (the last 64 KiB), or '' when nothing. */
  logs(): string {
    return this._job.extra(this.callId)?.logs ?? '';
  }

  /** Resolves when the future is done (never rejects, except on timeout). */
  settled(timeoutSeconds?: number): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      const x = this._job.more(this.callId);
      (x.waiters ??= []).push(waiter);
      if (timeoutSeconds !== undefined) {
        timer = setTimeout(() => {
          x.waiters = x.waiters?.filter((w) => w !== waiter);
          reject(
            new WaitTimeoutError(`call ${this.callId} of job ${this.jobId} did not finish within ${timeoutSeconds} s`, {
              callId: this.callId,
              jobId: this.jobId,
            }),
          );
        }, timeoutSeconds * 1000);
      }
    });
  }

  /** @internal: the value of a successful call (undefined otherwise, or while it is not fetched), without waiting. */
  _value(): R | undefined {
    const v = this._job.valueOf(this.callId);
    return v instanceof LazyResult ? undefined : (v as R | undefined);
  }

  /** @internal */
  _setStatus(status: 'invoked' | 'running'): void {
    this._job.setStatus(this.callId, status);
  }

  /** @internal */
  _resolve(value: R, logs?: string): void {
    this._job.resolve(this.callId, value, logs);
  }

  /** @internal */
  _reject(error: BurstError, logs?: string): void {
    this._job.reject(this.callId, error, logs);
  }

  /**
   * @internal: a plain success over IPC (see FRAME_RESULT_OK): the worker's few stats and the value,
   * received (and its status stored) at `now`, without a record object.
   */
  _plainSuccess(value: R, worker: WorkerIdentity, fnStart: number, fnEnd: number, bytesOut: number, now: number): void {
    this._job.plainSuccess(this.callId, value, worker, fnStart, fnEnd, bytesOut, now);
  }

  /** @internal: the attempt failed but will be retried. */
  _retry(error: BurstError): void {
    this._job.retry(this.callId, error);
    this._stat('attempt', (this._statOf('attempt') ?? 1) + 1);
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FUTURE] === true;
  }
}

// On the prototype, not each instance: another copy of this module (CommonJS and ESM) knows it too.
Object.defineProperty(Future.prototype, FUTURE, { value: true });
