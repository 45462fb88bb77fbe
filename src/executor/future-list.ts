/**
 * The list of futures that `map` returns (./future.ts): an array whose future objects a map makes only
 * when one of its elements is first read, and the collecting of a list's results (`getResult`).
 */
import { ConfigError, WaitTimeoutError } from '../errors.js';
import { raceSignal } from './abort.js';
import { LazyResult } from './lazy-result.js';
import type { MapOptions, TaskFunction } from './executor.js';
import type { CallResult } from './stored-result.js';
import type { ReduceItem } from '../worker/result-feed.js';
import type { Future } from './future.js';
import { countDone, futureAt, type FutureControl, type FutureJob, LIST_JOB, listJob } from './future-job.js';

/** Results stored apart fetched at once by `getResult`. */
const FETCH_CONCURRENCY = 16;

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
  // Each call is read from its job's row: for a map's list whose futures are not made, from the job
  // of the list (an element the caller set in the list is used as it is).
  const job = listJob(futures);
  const listed = (i: number): Future<R> | undefined =>
    job === undefined || Object.hasOwn(futures, i) ? (futures[i] as Future<R>) : undefined;
  const jobOf = (i: number): FutureJob => listed(i)?._job ?? (job as FutureJob);
  const idOf = (i: number): number => listed(i)?.callId ?? i;
  const n = futures.length;
  // Each pass over the rows is a plain function of its own: V8 compiles each hot loop once, where
  // three loops in this async function made it compile the whole of it three times over (issue 16).
  const firstOpen = (from: number): number => {
    for (let i = from; i < n; i++) {
      const j = jobOf(i);
      const id = idOf(i);
      if (!j.isDone(id)) return i;
      if (throwOnError && j.isError(id)) throw j.extra(id)?.error;
    }
    return n;
  };
  for (let i = firstOpen(0); i < n; i = firstOpen(i)) {
    const j = jobOf(i);
    const id = idOf(i);
    const left = deadline === undefined ? undefined : Math.max(0, (deadline - Date.now()) / 1000);
    try {
      await j.handle(id).settled(left);
    } catch {
      const pending = n - countDone(futures as readonly Future<unknown>[]);
      throw new WaitTimeoutError(`${pending} of ${n} calls did not finish within ${options.timeout} s`, {
        jobId: j.jobId,
      });
    }
  }
  // Results stored apart are fetched now, a few at a time.
  const lazy = storedApart(n, jobOf, idOf) as Future<R>[];
  let next = 0;
  const fetcher = async (): Promise<void> => {
    while (next < lazy.length) await (lazy[next++] as Future<R>)._load();
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, lazy.length) }, fetcher));
  return resultsOf<R>(n, jobOf, idOf);
}

/** The calls of rows 0..n-1 that succeeded with a result stored apart, not fetched yet. */
function storedApart(n: number, jobOf: (i: number) => FutureJob, idOf: (i: number) => number): Future<unknown>[] {
  const lazy: Future<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const j = jobOf(i);
    const id = idOf(i);
    if (j.status(id) === 'success' && j.valueOf(id) instanceof LazyResult) lazy.push(j.handle(id));
  }
  return lazy;
}

/** Each row's value, or its error. */
function resultsOf<R>(n: number, jobOf: (i: number) => FutureJob, idOf: (i: number) => number): Array<R | Error> {
  const out = new Array<R | Error>(n);
  for (let i = 0; i < n; i++) {
    const j = jobOf(i);
    const id = idOf(i);
    out[i] = j.isError(id) ? (j.extra(id)?.error as Error) : (j.valueOf(id) as R);
  }
  return out;
}
