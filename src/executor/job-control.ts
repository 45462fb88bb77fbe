/**
 * Control of one submitted job: cancelling some or all of its calls (`future.cancel()`,
 * `futures.cancel()`, an aborted `signal`) and stopping it early once `maxFailures` calls have failed.
 * A cancelled call settles at once with a CancelledError; the backend is told to stop it (the
 * localhost pool aborts it and, after a grace, kills and replaces its process; calls not started are
 * dropped). A cancel that comes while the job is still being submitted is applied once it is.
 */
import { CancelledError, ConfigError, MaxFailuresError } from '../errors.js';
import type { Future } from './future.js';
import { countDone, futureAt, listJob, type FutureJob } from './future-job.js';
import { abortedError } from './abort.js';

/** Tells the backend to stop calls (all of the job's with `undefined`). */
export type Stopper = (callIds: readonly number[] | undefined, reason: string) => void;

/** The options of a job that control it. */
export interface ControlOptions {
  maxFailures?: number;
  signal?: AbortSignal;
}

/** Checks `maxFailures` and `signal` as given to map, callAsync or mapReduce. */
export function checkControlOptions(o: { maxFailures?: unknown; signal?: unknown }): void {
  const m = o.maxFailures;
  if (m !== undefined && !(typeof m === 'number' && ((Number.isInteger(m) && m >= 1) || (m > 0 && m < 1)))) {
    throw new ConfigError(
      `maxFailures must be a positive integer (a count) or a number between 0 and 1 (a fraction of the job's calls), got ${JSON.stringify(m) ?? String(m)}`,
      { keyPath: 'maxFailures' },
    );
  }
  const s = o.signal;
  if (
    s !== undefined &&
    !(
      typeof s === 'object' &&
      s !== null &&
      typeof (s as AbortSignal).aborted === 'boolean' &&
      typeof (s as AbortSignal).addEventListener === 'function'
    )
  ) {
    throw new ConfigError(`signal must be an AbortSignal, got ${s === null ? 'null' : typeof s}`, {
      keyPath: 'signal',
    });
  }
}

/** One job's cancel and early-stop state; each of its futures points at it. */
export class JobControl {
  private readonly stoppers: Stopper[] = [];
  private readonly early: Array<[readonly number[] | undefined, string]> = [];
  private readonly limit: number | undefined;
  private failures = 0;
  private left: number;
  private detach: (() => void) | undefined;
  private whenSettled: (() => void) | undefined;

  constructor(
    private readonly futures: readonly Future<unknown>[],
    private readonly context: { jobId: string; executorId: string },
    private readonly options: ControlOptions,
    /** Set when the futures were just made and all share this job: no need to visit each of them. */
    fresh?: FutureJob,
  ) {
    const m = options.maxFailures;
    this.limit = m === undefined ? undefined : m >= 1 ? m : Math.max(1, Math.ceil(m * futures.length));
    let left = 0;
    if (fresh) {
      fresh.control = this;
      left = futures.length;
    } else {
      for (const f of futures) {
        f._job.control = this;
        if (!f.done) left++;
      }
    }
    this.left = left;
    const signal = options.signal;
    if (signal && this.left > 0) {
      const onAbort = (): void => this.cancelAll(signal);
      signal.addEventListener('abort', onAbort, { once: true });
      this.detach = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Where cancels go from now on (one per submission to the backend); earlier cancels are replayed. */
  attach(stopper: Stopper): void {
    this.stoppers.push(stopper);
    for (const [ids, reason] of this.early) stopper(ids, reason);
  }

  /** Runs `fn` once every future of the job has settled (at once if they have). */
  onSettled(fn: () => void): void {
    if (this.left === 0) fn();
    else this.whenSettled = fn;
  }

  /** True when every call was cancelled before the job reached the backend: no need to submit it. */
  get allCancelled(): boolean {
    return this.early.some(([ids]) => ids === undefined);
  }

  /** Cancels the given calls (all without `callIds`); resolves nothing, settles their futures now. */
  cancel(callIds: readonly number[] | undefined, why: string, cause?: unknown): number {
    const targets =
      callIds === undefined
        ? this.all()
        : callIds.map((i) => futureAt(this.futures, i)).filter((f): f is Future<unknown> => f !== undefined);
    const ids: number[] = [];
    for (const f of targets) {
      if (f.done) continue;
      ids.push(f.callId);
      f._reject(
        new CancelledError(`call ${f.callId} of job ${this.context.jobId} was cancelled: ${why}`, {
          ...this.context,
          callId: f.callId,
          ...(cause !== undefined ? { cause } : {}),
        }),
      );
    }
    // Every call of the job is settled now: stop the job as a whole (cheaper than a list of ids).
    if (ids.length > 0)
      this.stop(callIds === undefined || countDone(this.futures) === this.futures.length ? undefined : ids, why);
    return ids.length;
  }

  /** The job's signal fired. */
  private cancelAll(signal: AbortSignal): void {
    for (const f of this.all()) {
      if (f.done) continue;
      f._reject(
        abortedError(`call ${f.callId} of job ${this.context.jobId}`, signal, { ...this.context, callId: f.callId }),
      );
    }
    this.stop(undefined, 'its signal was aborted');
  }

  /** A future of the job settled (called by the future). */
  settled(failed: boolean): void {
    if (failed) this.failed();
    if (--this.left > 0) return;
    this.detach?.();
    this.detach = undefined;
    const fn = this.whenSettled;
    this.whenSettled = undefined;
    fn?.();
  }

  private failed(): void {
    if (this.limit === undefined || ++this.failures !== this.limit) return;
    const m = this.options.maxFailures as number;
    const rule = m >= 1 ? `maxFailures: ${m}` : `maxFailures: ${m} of ${this.futures.length} calls`;
    for (const f of this.all()) {
      if (f.done) continue;
      f._reject(
        new MaxFailuresError(
          `call ${f.callId} of job ${this.context.jobId} was cancelled: the job stopped after ${this.failures} failed calls (${rule})`,
          this.failures,
          this.limit,
          { ...this.context, callId: f.callId },
        ),
      );
    }
    this.stop(undefined, `the job stopped after ${this.failures} failed calls`);
  }

  /** The job's futures not done, as handles when its list's futures are not made (./future-job.ts). */
  private *all(): Generator<Future<unknown>> {
    const job = listJob(this.futures);
    if (!job) {
      yield* this.futures;
      return;
    }
    for (let i = 0; i < job.size; i++) if (!job.isDone(i)) yield job.handle(i);
  }

  private stop(ids: readonly number[] | undefined, reason: string): void {
    if (this.stoppers.length === 0) this.early.push([ids, reason]);
    for (const s of this.stoppers) s(ids, reason);
  }
}
