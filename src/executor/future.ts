/**
 * Futures: one per call. A future moves new → invoked → running → success | error, keeps the call's
 * stats and logs, and settles exactly once per attempt chain (retries keep the same future).
 */
import type { BurstError } from '../errors.js';
import { CancelledError, ConfigError, WaitTimeoutError } from '../errors.js';
import { raceSignal } from './abort.js';
import { LazyResult } from './lazy-result.js';
import { asBurstError } from './settle.js';
import type { MapOptions, TaskFunction } from './executor.js';
import type { CallResult } from './stored-result.js';
import type { ReduceItem } from '../worker/result-feed.js';
import type { WorkerCallStats, WorkerIdentity } from '../worker/protocol.js';
import type { StatsColumns } from './stats-columns.js';
import { countDone, futureAt, FutureJob, LIST_JOB, listJob, setFutureClass, type FutureControl } from './future-job.js';

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
/** Results stored apart fetched at once by `getResult`. */
const FETCH_CONCURRENCY = 16;

/**
 * The pending result of one call: a handle on its row of the job's columns (./future-job.ts), where
 * the call's state lives. A map's futures are made when its list is first read (see {@link FutureList}).
 */
export class Future<R = unknown> {
  /** @internal: what this future shares with the rest of its job, its state included. */
  readonly _job: FutureJob;
  /** The call's index in its job. */
  readonly callId: number;

  /** @internal: a future of a job's columns (`newFutures`), or one made alone. */
  constructor(job: FutureJob | { executorId: string; jobId: string }, callId: number) {
    this._job =
      job instanceof FutureJob
        ? job
        : new FutureJob(job.executorId, job.jobId, undefined, { submitted: Date.now(), attempt: 1 }, callId);
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

setFutureClass(Future);

// On the prototype, not each instance: another copy of this module (CommonJS and ESM) knows it too.
Object.defineProperty(Future.prototype, FUTURE, { value: true });

/**
 * An array of futures, in input order, with the list's results a call away.
 *
 * The list a map returns makes its future objects when one of its elements is first read (by index,
 * iteration or any array method): `getResult` and the executor never need them, and for a large map
 * making them cost more than the calls. Until then `Object.keys` and `structuredClone` see holes.
 */
export class FutureList<R = unknown> extends Array<Future<R>> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** @internal: the executor whose `map`/`mapReduce` chaining runs on. */
  _host: ChainHost | undefined;

  /** @internal */
  static from_<R>(futures: readonly Future<R>[], host?: ChainHost): FutureList<R> {
    if (futures instanceof FutureList && listJob(futures)) {
      (futures as FutureList<R>)._host = host;
      return futures as FutureList<R>;
    }
    const list = new FutureList<R>();
    list.length = futures.length;
    for (let i = 0; i < futures.length; i++) list[i] = futures[i] as Future<R>;
    Object.defineProperty(list, '_host', { value: host, enumerable: false, writable: true });
    return list;
  }

  /** @internal: every future of `job`, in order, made when an element is first read. */
  static lazy_<R>(job: FutureJob): FutureList<R> {
    const list = new FutureList<R>();
    list.length = job.size;
    Object.defineProperty(list, '_host', { value: undefined, enumerable: false, writable: true });
    Object.defineProperty(list, LIST_JOB, { value: job, configurable: true });
    Object.setPrototypeOf(list, lazyPrototype(list));
    return list;
  }

  /**
   * Chains a job: runs `fn` over the results of these calls, one call per future, in order, on the
   * same executor. Each input is a reference to a call's result that the worker reads from storage,
   * so the results never pass through the client (on the localhost IPC channel they do). A call whose
   * upstream failed fails with an {@link UpstreamError} naming both calls. The new job is submitted
   * once every future here has settled; the returned futures come back at once.
   *
   * This replaces `Array.prototype.map` on a FutureList: for a plain array of the futures, use
   * `Array.from(futures, (f) => …)` or `[...futures].map(…)`.
   *
   * @example
   * ```ts
   * const squares = await fexec.map(square, [1, 2, 3]);
   * const plusOne = await squares.map(addOne);      // runs addOne(1), addOne(4), addOne(9) on workers
   * console.log(await plusOne.getResult());         // [ 2, 5, 10 ]
   * ```
   */
  override map<S, A = unknown>(
    fn: TaskFunction<Awaited<R>, S, A>,
    options?: MapOptions<A>,
  ): Promise<FutureList<CallResult<S>>>;
  /**
   * Not callable (`this: never`): only here so a FutureList still is a `readonly Future[]`. For an
   * array map of the futures use `Array.from(futures, fn)`.
   * @deprecated `FutureList.map` chains a job.
   */
  override map<U>(
    this: never,
    callbackfn: (value: Future<R>, index: number, array: Future<R>[]) => U,
    thisArg?: unknown,
  ): U[];
  override map(fn: (...a: never[]) => unknown, options?: unknown): unknown {
    return chainHost(this, 'map').map(fn, [...this], checkChainOptions(options, 'map'));
  }

  /**
   * Chains a map-reduce over the results of these calls (see {@link FutureList.map}): `mapFn` runs
   * once per future, then `reduceFn` over the map results, with `streamReduce` as they complete.
   */
  mapReduce<S, T, A = unknown>(
    mapFn: TaskFunction<Awaited<R>, S, A>,
    reduceFn: TaskFunction<AsyncIterable<ReduceItem<Awaited<S>>>, T, A>,
    options: MapOptions<A> & { streamReduce: true },
  ): Promise<FutureList<Awaited<T>>>;
  mapReduce<S, T, A = unknown>(
    mapFn: TaskFunction<Awaited<R>, S, A>,
    reduceFn: TaskFunction<Awaited<S>[], T, A>,
    options?: MapOptions<A>,
  ): Promise<FutureList<Awaited<T>>>;
  mapReduce(mapFn: (...a: never[]) => unknown, reduceFn: (...a: never[]) => unknown, options?: unknown): unknown {
    return chainHost(this, 'mapReduce').mapReduce(mapFn, [...this], reduceFn, checkChainOptions(options, 'mapReduce'));
  }

  /**
   * Cancels every call of the list not done yet (a whole job when the list is a map's futures), as
   * {@link Future.cancel} does for one. Returns how many were cancelled.
   */
  cancel(reason = 'cancelled by the caller'): number {
    const control = listJob(this)?.control;
    if (control) return control.cancel(undefined, reason);
    const byJob = new Map<FutureControl | undefined, number[]>();
    let n = 0;
    for (const f of this) {
      if (f.done) continue;
      const control = f._job.control;
      if (!control) {
        if (f.cancel(reason)) n++;
        continue;
      }
      const ids = byJob.get(control) ?? [];
      ids.push(f.callId);
      byJob.set(control, ids);
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

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * The prototype of a list whose futures are not made yet: an element missing from the list is looked
 * up here, which makes them all (so the list is a plain FutureList again) and answers from the list.
 */
function lazyPrototype(list: FutureList<unknown>): object {
  const isElement = (key: string | symbol): boolean =>
    typeof key === 'string' && /^(?:0|[1-9]\d{0,15})$/.test(key) && Number(key) < list.length;
  return new Proxy(FutureList.prototype, {
    get(target, key, receiver) {
      if (receiver === list && (key === INSPECT || isElement(key))) {
        makeAll(list);
        return key === INSPECT ? undefined : list[Number(key)];
      }
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (!isElement(key)) return Reflect.has(target, key);
      makeAll(list);
      return key in list;
    },
    getPrototypeOf: () => FutureList.prototype,
  });
}

/** Makes the futures of a lazy list (./future-job.ts `listJob`) where it has none of its own. */
function makeAll(list: FutureList<unknown>): void {
  const job = listJob(list);
  if (!job) return;
  delete (list as unknown as Record<symbol, unknown>)[LIST_JOB];
  Object.setPrototypeOf(list, FutureList.prototype);
  const n = Math.min(job.size, list.length);
  for (let i = 0; i < n; i++) if (!Object.hasOwn(list, i)) list[i] = job.handle(i);
}

/** @internal: what chaining needs of the executor (its `map` and `mapReduce`). */
export interface ChainHost {
  map(fn: (...a: never[]) => unknown, inputs: readonly unknown[], options?: object): Promise<unknown>;
  mapReduce(
    mapFn: (...a: never[]) => unknown,
    inputs: readonly unknown[],
    reduceFn: (...a: never[]) => unknown,
    options?: object,
  ): Promise<unknown>;
}

function chainHost(list: FutureList<unknown>, method: string): ChainHost {
  if (list._host) return list._host;
  throw new ConfigError(
    `futures.${method}() chains a job on the executor that made the futures, but this FutureList was not returned by an executor; use fexec.${method}(fn, futures) (for an array map: Array.from(futures, fn))`,
    { keyPath: 'futures' },
  );
}

function checkChainOptions(options: unknown, method: string): object | undefined {
  if (options === undefined || (typeof options === 'object' && options !== null && !Array.isArray(options)))
    return options as object | undefined;
  throw new ConfigError(
    `futures.${method}(fn, options) chains a job and takes map options as its second argument, got ${typeof options}; for an array map use Array.from(futures, fn)`,
    { keyPath: 'options' },
  );
}

/** Waits for every future and returns the results in order (or the error in its slot). */
export async function collectResults<R>(
  futures: readonly Future<R>[],
  options: { timeout?: number; throwOnError?: boolean; signal?: AbortSignal },
): Promise<Array<R | Error>> {
  if (options.signal) {
    const { signal, ...rest } = options;
    const first = futureAt(futures, 0);
    return raceSignal(
      collectResults(futures, rest),
      signal,
      `getResult of ${futures.length} calls`,
      first ? { jobId: first.jobId, executorId: first.executorId } : {},
    );
  }
  const throwOnError = options.throwOnError ?? true;
  const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout * 1000;
  // A map's list whose futures are not made: its calls are read from the job's columns, row by row
  // (an element the caller set in the list is used as it is).
  const job = listJob(futures);
  const row = (i: number): boolean => job !== undefined && !Object.hasOwn(futures, i);
  const n = futures.length;
  for (let i = 0; i < n; i++) {
    const virtual = row(i);
    const f = virtual ? undefined : (futures[i] as Future<R>);
    if (f ? f.done : (job as FutureJob).isDone(i)) {
      if (throwOnError && (f ? f.status === 'error' : (job as FutureJob).isError(i)))
        throw f ? f.error : (job as FutureJob).extra(i)?.error;
      continue;
    }
    const waited = f ?? (job as FutureJob).handle<R>(i);
    const left = deadline === undefined ? undefined : Math.max(0, (deadline - Date.now()) / 1000);
    try {
      await waited.settled(left);
    } catch {
      const pending = n - countDone(futures as readonly Future<unknown>[]);
      throw new WaitTimeoutError(`${pending} of ${n} calls did not finish within ${options.timeout} s`, {
        jobId: waited.jobId,
      });
    }
    if (throwOnError && waited.status === 'error') throw waited.error;
  }
  // Results stored apart are fetched now, a few at a time.
  const lazy: Future<R>[] = [];
  for (let i = 0; i < n; i++) {
    const f = row(i) ? undefined : (futures[i] as Future<R>);
    const value = f ? f._job.valueOf(f.callId) : (job as FutureJob).valueOf(i);
    if (value instanceof LazyResult && (f ? f.status : (job as FutureJob).status(i)) === 'success')
      lazy.push(f ?? (job as FutureJob).handle<R>(i));
  }
  let next = 0;
  const fetcher = async (): Promise<void> => {
    while (next < lazy.length) await (lazy[next++] as Future<R>)._load();
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, lazy.length) }, fetcher));
  const out = new Array<R | Error>(n);
  for (let i = 0; i < n; i++) {
    const f = row(i) ? undefined : (futures[i] as Future<R>);
    const j = f ? f._job : (job as FutureJob);
    const id = f ? f.callId : i;
    out[i] = j.isError(id) ? (j.extra(id)?.error as Error) : (j.valueOf(id) as R);
  }
  return out;
}
