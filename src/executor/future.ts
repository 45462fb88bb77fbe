/**
 * Futures: one per call. A future moves new → invoked → running → success | error, keeps the call's
 * stats and logs, and settles exactly once per attempt chain (retries keep the same future).
 */
import type { BurstError } from '../errors.js';
import { CancelledError, WaitTimeoutError } from '../errors.js';
import { raceSignal } from './abort.js';

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
  /** Where the platform kept the call's logs (e.g. its CloudWatch stream on AWS Lambda). */
  location?: import('../worker/protocol.js').CallLocation;
  /** True when the result came from the result cache (`cache: true`): the call did not run. */
  cached?: boolean;
  /** Set when a speculative backup of the call was started: `'won'` when the backup's result was kept, `'lost'` when the original's was. */
  backup?: 'won' | 'lost';
}

const FUTURE = Symbol.for('burst.future');

/** @internal: what a future knows of its job (./job-control.ts), without importing it. */
export interface FutureControl {
  cancel(callIds: readonly number[] | undefined, why: string): number;
  settled(future: Future<unknown>): void;
}

/** The pending result of one call. */
export class Future<R = unknown> {
  /** The call's index in its job. */
  readonly callId: number;
  readonly jobId: string;
  readonly executorId: string;
  /** Current state of the call. */
  status: FutureStatus = 'new';
  /** The error, once the call has failed. */
  error?: BurstError;
  /** Timings and sizes; filled in as the call progresses. */
  readonly stats: CallStats;
  private value?: R;
  private capturedLogs?: string;
  private waiters: Array<() => void> = [];
  /** @internal: told once when the future is done (the executor's bookkeeping; cheaper than a promise). */
  _onDone: ((future: unknown) => void) | undefined;
  /** Errors of the attempts that failed before the last one. */
  readonly attempts: BurstError[] = [];
  /** @internal: the job's control, for cancel and maxFailures. */
  _control: FutureControl | undefined;

  /** @internal */
  constructor(executorId: string, jobId: string, callId: number) {
    this.executorId = executorId;
    this.jobId = jobId;
    this.callId = callId;
    this.stats = { submitted: Date.now(), attempt: 1 };
    Object.defineProperty(this, FUTURE, { value: true });
  }

  /** True once the call has succeeded or failed for good. */
  get done(): boolean {
    return this.status === 'success' || this.status === 'error';
  }

  /** The call's result; rejects with its error. */
  result(options: { timeout?: number } = {}): Promise<R> {
    return this.settled(options.timeout).then(() => {
      if (this.status === 'error') throw this.error;
      return this.value as R;
    });
  }

  /**
   * Cancels the call: a call not started never starts, a running one gets its `ctx.signal` aborted
   * (on the localhost backend its process is killed and replaced if it has not returned after a
   * short grace). The future settles at once with a CancelledError. Returns false when it was done.
   */
  cancel(reason = 'cancelled by the caller'): boolean {
    if (this.done) return false;
    if (this._control) this._control.cancel([this.callId], reason);
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
    return this.capturedLogs ?? '';
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
      this.waiters.push(waiter);
      if (timeoutSeconds !== undefined) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
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

  /** @internal */
  _setStatus(status: 'invoked' | 'running'): void {
    if (!this.done) this.status = status;
  }

  /** @internal */
  _resolve(value: R, logs?: string): void {
    if (this.done) return;
    this.value = value;
    if (logs) this.capturedLogs = logs;
    this.status = 'success';
    this.stats.resultReceived = Date.now();
    this.wake();
  }

  /** @internal */
  _reject(error: BurstError, logs?: string): void {
    if (this.done) return;
    this.error = error;
    if (logs) this.capturedLogs = logs;
    this.status = 'error';
    this.stats.resultReceived = Date.now();
    this.wake();
  }

  /** @internal: the attempt failed but will be retried. */
  _retry(error: BurstError): void {
    this.attempts.push(error);
    this.stats.attempt++;
    this.status = 'invoked';
  }

  private wake(): void {
    this._onDone?.(this);
    this._onDone = undefined;
    this._control?.settled(this as Future<unknown>);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FUTURE] === true;
  }
}

/** An array of futures, in input order, with the list's results a call away. */
export class FutureList<R = unknown> extends Array<Future<R>> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** @internal */
  static from_<R>(futures: readonly Future<R>[]): FutureList<R> {
    const list = new FutureList<R>();
    list.length = futures.length;
    for (let i = 0; i < futures.length; i++) list[i] = futures[i] as Future<R>;
    return list;
  }

  /**
   * Cancels every call of the list not done yet (a whole job when the list is a map's futures), as
   * {@link Future.cancel} does for one. Returns how many were cancelled.
   */
  cancel(reason = 'cancelled by the caller'): number {
    const byJob = new Map<FutureControl | undefined, number[]>();
    let n = 0;
    for (const f of this) {
      if (f.done) continue;
      if (!f._control) {
        if (f.cancel(reason)) n++;
        continue;
      }
      const ids = byJob.get(f._control) ?? [];
      ids.push(f.callId);
      byJob.set(f._control, ids);
    }
    for (const [control, ids] of byJob) n += (control as FutureControl).cancel(ids, reason);
    return n;
  }

  /** The results in input order; see {@link GetResultOptions}. */
  getResult(options: { timeout?: number; throwOnError?: true; signal?: AbortSignal }): Promise<R[]>;
  getResult(options: { timeout?: number; throwOnError: false; signal?: AbortSignal }): Promise<Array<R | Error>>;
  getResult(): Promise<R[]>;
  getResult(
    options: { timeout?: number; throwOnError?: boolean; signal?: AbortSignal } = {},
  ): Promise<Array<R | Error>> {
    return collectResults(this, options);
  }
}

/** Waits for every future and returns the results in order (or the error in its slot). */
export async function collectResults<R>(
  futures: readonly Future<R>[],
  options: { timeout?: number; throwOnError?: boolean; signal?: AbortSignal },
): Promise<Array<R | Error>> {
  if (options.signal) {
    const { signal, ...rest } = options;
    return raceSignal(
      collectResults(futures, rest),
      signal,
      `getResult of ${futures.length} calls`,
      futures[0] ? { jobId: futures[0].jobId, executorId: futures[0].executorId } : {},
    );
  }
  const throwOnError = options.throwOnError ?? true;
  const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout * 1000;
  for (const f of futures) {
    if (f.done) {
      if (throwOnError && f.status === 'error') throw f.error;
      continue;
    }
    const left = deadline === undefined ? undefined : Math.max(0, (deadline - Date.now()) / 1000);
    try {
      await f.settled(left);
    } catch {
      const pending = futures.filter((x) => !x.done).length;
      throw new WaitTimeoutError(`${pending} of ${futures.length} calls did not finish within ${options.timeout} s`, {
        jobId: f.jobId,
      });
    }
    if (throwOnError && f.status === 'error') throw f.error;
  }
  return futures.map((f) => (f.status === 'error' ? (f.error as Error) : (f as unknown as { value: R }).value));
}
