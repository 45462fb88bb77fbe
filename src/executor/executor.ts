/**
 * FunctionExecutor: the public entry point. It packages the function, submits jobs to a compute
 * backend, and hands back futures. The work of one submission lives in ./submit.ts.
 */
import { StatsColumns } from './stats-columns.js';
import { randomBytes } from 'node:crypto';
import { BurstError, CancelledError, ConfigError, WaitTimeoutError } from '../errors.js';
import { checkCallOptions, resolveOptions, type ExecutorOptions, type ResolvedOptions } from '../config/defaults.js';
import { Future } from './future.js';
import { FutureList, collectResults, type ChainHost } from './future-list.js';
import { countDone, FutureJob, listJob } from './future-job.js';
import { asCompleted, waitFutures, type WaitOptions, type WaitResult } from './wait.js';
import { JobControl, checkControlOptions } from './job-control.js';
import { abortedError } from './abort.js';
import { ExecutorParts } from './parts.js';
import type { CallResult, StoredResult } from './stored-result.js';
import { startPackaging, submitJob, type JobKind, type SubmitOptions } from './submit.js';
import type { CallContext } from '../worker/context.js';
import { keys } from '../job/layout.js';
import { showProgress } from '../monitor/progress.js';
import { ClientLease, leaseSecondsOf } from '../job/lease.js';
import { checkResources, type OomRetry } from './resources.js';
import { rerunnerOf, type Rerunner } from './rerun.js';
import { loadConfigSync, mergeConfig, reportConfigWarnings } from '../config/load.js';
import { summarize } from '../stats/summary.js';
import { formatSummary } from '../stats/format.js';
import type { JobSummary } from '../stats/types.js';
// The partition planner (data inputs only) and attach's reader load on use (issue 16).
import { isPartitionInput } from '../partition/inputs.js';
import { validatePartitionOptions } from '../partition/chunking.js';
import { markPartition, type DataPartition } from '../partition/reader.js';
import type { PartitionOptions, PartitionSpec } from '../partition/types.js';
import type { planPartitions } from '../partition/planner.js';
import { assertCanPackage } from '../worker/self-resolve.js';
import { PrimitivesHost } from '../primitives/host.js';
import type { Primitives } from '../primitives/primitives.js';
import type { RedisOptions, PrimitivesMode } from '../primitives/options.js';
import { inputsHoldFutures, submitWhenLinked } from './chain.js';
import { startReducers } from './reduce.js';
import type { ReduceItem } from '../worker/result-feed.js';
import { cacheEnv, checkCacheOption, flushCacheWrites } from './cache.js';
import { resolveSpeculative, type SpeculativeOptions } from './speculate.js';

/** Set while `attach` constructs an executor that takes over an existing id. */
let attaching: string | undefined;

/** A function Burst can run: it gets one input and the call's context. */
export type TaskFunction<I, R, A = unknown> = (input: I, ctx: CallContext<A>) => R | PromiseLike<R>;

/** Options of `map`, `callAsync` and `mapReduce`. */
export interface MapOptions<A = unknown> extends PartitionOptions {
  /** With data inputs (URIs), `mapReduce` runs one reducer per object over that object's chunks. @default false */
  reducerOnePerObject?: boolean;
  /**
   * `mapReduce` only: start the reducer as soon as the first map result exists and give it an
   * `AsyncIterable` of `{ index, callId, value }` in the order the map calls complete, instead of an
   * array once all are done. On the localhost IPC channel the reducer starts when the maps are done.
   * @default false
   */
  streamReduce?: boolean;
  /**
   * Treat a string, or a list of strings, that are storage URIs or existing local paths as data: each
   * call then gets a {@link DataPartition}. `false` passes such strings to the function as they are.
   * @default true
   */
  dataInputs?: boolean;
  /** Passed to every call as `ctx.args`. */
  extraArgs?: A;
  /** Calls per worker invocation (per message on localhost, per array task on Slurm). @default chosen by the backend */
  chunksize?: number;
  /** Seconds each call may run. @default the executor's `timeout` */
  timeout?: number;
  /** Times a failed call is run again. @default the executor's `retries` */
  retries?: number;
  /** Environment variables set while the function runs. */
  env?: Record<string, string>;
  /**
   * Memory per worker in MB for this map's calls: the heap limit of each worker process on
   * localhost, the memory request (`--mem`) on Slurm.
   * @default the executor's `runtimeMemory`
   */
  runtimeMemory?: number;
  /**
   * Run a call that fails with `OutOfMemoryError` again with more memory (its memory times `factor`,
   * up to `maxMemory` MB), on top of `retries`. Needs `runtimeMemory`; localhost and Slurm only (a
   * ConfigError elsewhere: serverless memory is fixed by the deployed runtime).
   * @default off
   */
  oomRetry?: OomRetry;
  /**
   * Stop the job early once this many of its calls have failed (after their retries): a count
   * (`3`), or a fraction of the job's calls (`0.1`). The calls not finished then settle with a
   * MaxFailuresError (a CancelledError with code `MAX_FAILURES`). @default no limit
   */
  maxFailures?: number;
  /**
   * Cancels the job when aborted: its unfinished calls settle with a CancelledError whose `cause` is
   * the signal's reason, as `futures.cancel()` does. Already aborted, the call rejects at once.
   * @default none
   */
  signal?: AbortSignal;
  /**
   * Reuse the stored result of an identical earlier call (same function code, input, `extraArgs` and
   * environment) instead of running it; successful results are stored for next time. See the
   * README's "Result cache". @default the executor's `cache` (false)
   */
  cache?: boolean;
  /**
   * Start a backup copy of a call that takes much longer than the job's finished calls; the first
   * copy to succeed wins, the other is cancelled. Not for functions with side effects. `true` takes
   * the defaults. @default the executor's `speculative` (off)
   */
  speculative?: boolean | SpeculativeOptions;
}

/** Options of `getResult`. */
export interface GetResultOptions {
  /** Seconds to wait at most; then a WaitTimeoutError. @default no limit */
  timeout?: number;
  /** Reject with the first failed call's error; with `false` a failed call yields its error in its slot. @default true */
  throwOnError?: boolean;
  /** Stops waiting when aborted (rejects with a CancelledError, `cause` = its reason); the calls go on. @default none */
  signal?: AbortSignal;
}

/** Options of {@link FunctionExecutor.attach}: the executor's options, and what to do with calls left. */
export interface AttachOptions extends ExecutorOptions {
  /**
   * Run the calls that no worker ever took (the dead client never sent them), and only those, so
   * the job finishes with every call run once. Calls a worker took but did not finish are watched,
   * not re-run. Needs the job's inputs in storage: not for localhost IPC-channel jobs.
   * @default false
   */
  resubmit?: boolean;
}

/** Inputs of `map`: an array, any iterable, or an async iterable. */
export type Inputs<I> = Iterable<I> | AsyncIterable<I>;

/**
 * Runs functions over many inputs in parallel: on this machine by default, or on the backend named
 * in the options.
 *
 * @example
 * ```ts
 * const fexec = new FunctionExecutor();
 * const futures = await fexec.map(addSeven, [1, 2, 3, 4]);
 * console.log(await fexec.getResult(futures)); // [ 8, 9, 10, 11 ]
 * await fexec.close();
 * ```
 */
export class FunctionExecutor implements AsyncDisposable {
  /** This executor's id; its jobs live under `burst/jobs/<executorId>/` in storage. */
  readonly executorId: string;
  /** The validated options. */
  readonly options: ResolvedOptions;
  private readonly parts: ExecutorParts;
  private jobSeq = 0;
  /** Futures by job; a future `getResult` returned is marked `_read` and skipped. */
  private unread: Future<unknown>[][] = [];
  /** Futures not done yet, by job (a Set of 10^6 futures costs more than the calls): close() fails them. */
  private readonly live = new Set<{ futures: readonly Future<unknown>[]; left: number }>();
  /** Every future of this executor, for stats and plots; `clean()` empties it. */
  private history: Future<unknown>[][] = [];
  private closed = false;
  /** The client lease, taken at the first submission (see lease.ts). */
  private lease: ClientLease | undefined;
  /** Failed futures whose calls `retryFailed` ran again. */
  private readonly superseded = new WeakSet<Future<unknown>>();
  private readonly leaseSeconds: number;
  private primitivesHost: PrimitivesHost | undefined;

  constructor(options: ExecutorOptions = {}) {
    // The config file (or BURST_CONFIG) and BURST_* variables, then these options over them.
    const loaded = loadConfigSync(options.config !== undefined ? { file: options.config } : {});
    reportConfigWarnings(loaded.warnings);
    this.options = resolveOptions(mergeConfig(loaded.options, options));
    this.executorId = attaching ?? `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    this.parts = new ExecutorParts(this.options, this.executorId);
    this.leaseSeconds = leaseSecondsOf(this.options.raw.leaseSeconds);
    checkCacheOption(this.options.raw.cache);
    resolveSpeculative(this.options.raw.speculative);
  }

  /**
   * Attaches to the jobs of an executor that ran in another process (e.g. one that was killed), with
   * the same storage options. Every call whose status is in storage settles from there, results
   * included; calls without one stay pending (and settle if their workers are still running).
   * `getResult()` and `wait()` without arguments then cover all of them.
   *
   * @example
   * ```ts
   * const fexec = await FunctionExecutor.attach('mwx3k2-1f2e3d', { storage: 's3' });
   * const { done, pending } = await fexec.wait(undefined, { returnWhen: 'ALWAYS' });
   * ```
   */
  static async attach(executorId: string, options: AttachOptions = {}): Promise<FunctionExecutor> {
    if (!/^[\w.-]+$/.test(executorId))
      throw new ConfigError(`not an executor id: ${JSON.stringify(executorId)}`, { keyPath: 'executorId' });
    const { resubmit = false, ...executorOptions } = options;
    if (typeof resubmit !== 'boolean')
      throw new ConfigError(`resubmit must be a boolean, got ${JSON.stringify(resubmit)}`, { keyPath: 'resubmit' });
    attaching = executorId;
    let fexec: FunctionExecutor;
    try {
      // Re-runs of stored jobs (resubmit, retryFailed) go through storage: on localhost, its storage channel.
      fexec = new FunctionExecutor({
        ...executorOptions,
        localhost: { channel: 'storage', ...executorOptions.localhost },
      });
    } finally {
      attaching = undefined;
    }
    const { attachJobs } = await import('./attach.js');
    const jobs = await attachJobs(fexec.parts, executorId, { resubmit, beforeResubmit: () => fexec.holdLease() });
    if (jobs.length === 0) {
      await fexec.close();
      throw new ConfigError(
        `no jobs of executor ${executorId} in bucket "${fexec.options.bucket}" of the ${typeof fexec.options.storage === 'string' ? fexec.options.storage : fexec.options.storage.name} storage`,
        { keyPath: 'executorId', executorId },
      );
    }
    for (const job of jobs) {
      fexec.track(job.futures, true);
      fexec.jobSeq = Math.max(fexec.jobSeq, Number(job.manifest.jobId.slice(1)) + 1);
    }
    return fexec;
  }

  /**
   * Runs the failed calls among `futures` again (default: every failed call of this executor) with
   * the same inputs, as their next attempt, and returns their new futures (the old ones keep their
   * errors). Each gets the job's `retries` again. Works on jobs attached from another process when
   * their inputs are in storage (any backend but localhost's default IPC channel).
   * @throws ConfigError when a failed call's job cannot be re-run from this process.
   */
  async retryFailed<R>(futures?: readonly Future<R>[]): Promise<FutureList<R>> {
    if (this.closed) throw new CancelledError('the executor is closed', { executorId: this.executorId });
    // A failed future already re-run is skipped: its call must not run twice for one request.
    const failed = (futures ?? (this.history.flat() as Future<R>[])).filter(
      (f) => f.status === 'error' && !this.superseded.has(f as Future<unknown>),
    );
    const byJob = new Map<string, Future<R>[]>();
    for (const f of failed) {
      let list = byJob.get(f.jobId);
      if (!list) byJob.set(f.jobId, (list = []));
      list.push(f);
    }
    const reruns: Array<[Rerunner, Future<R>[], Future<R>[]]> = [];
    for (const [jobId, list] of byJob) {
      const rerun = rerunnerOf(this.parts, jobId);
      if (!rerun)
        throw new ConfigError(
          `job ${jobId} of executor ${list[0]?.executorId ?? this.executorId} cannot be re-run from this process: it ran over the localhost IPC channel of another client, whose inputs lived only there`,
          { keyPath: 'futures', jobId },
        );
      const fresh = list.map((f) => FutureJob.alone<R>(f.executorId, jobId, f.callId));
      for (const f of list) this.superseded.add(f as Future<unknown>);
      reruns.push([rerun, list, fresh]);
    }
    const all: Future<R>[] = [];
    if (reruns.length > 0) await this.holdLease();
    for (const [rerun, old, fresh] of reruns) {
      this.track(fresh as Future<unknown>[], true);
      await rerun(
        old.map((f) => ({ callId: f.callId, attempt: f.stats.attempt + 1 })),
        new Map(fresh.map((f) => [f.callId, f as Future<unknown>])),
      );
      all.push(...fresh);
    }
    return FutureList.from_(all, this.asChainHost());
  }

  /** Runs `fn(input)` once, asynchronously. */
  async callAsync<I, R, A = unknown>(
    fn: TaskFunction<I, R, A>,
    input: NoInfer<I> | Future<NoInfer<I>>,
    options: MapOptions<A> = {},
  ): Promise<Future<CallResult<R>>> {
    const [future] = await this.submit<CallResult<R>>('A', fn, [input], options);
    return future as Future<CallResult<R>>;
  }

  /**
   * Runs `fn` over data where it lives: a prefix, glob, object URI or local path (or a list of them)
   * is split into chunks and each call gets one {@link DataPartition}.
   */
  map<R, A = unknown>(
    fn: TaskFunction<DataPartition, R, A>,
    data: string | readonly string[],
    options?: MapOptions<A>,
  ): Promise<FutureList<CallResult<R>>>;
  /**
   * Runs `fn` over every input in parallel; the futures come back in input order. A function that
   * returns a stream has it stored, and its future yields a {@link StoredResult}.
   */
  map<I, R, A = unknown>(
    fn: TaskFunction<I, R, A>,
    inputs: Inputs<NoInfer<I> | Future<NoInfer<I>>>,
    options?: MapOptions<A>,
  ): Promise<FutureList<CallResult<R>>>;
  async map<R>(
    fn: TaskFunction<never, R, unknown>,
    inputs: Inputs<unknown> | string,
    options: MapOptions = {},
  ): Promise<FutureList<CallResult<R>>> {
    const { list } = await this.prepareInputs(inputs, options);
    return FutureList.from_(await this.submit<CallResult<R>>('M', fn, list, options), this.asChainHost());
  }

  /**
   * Maps, then runs `reduceFn` over the array of map results (in input order) as a task on the
   * backend. The returned list holds the reducer's future; with data inputs and
   * `reducerOnePerObject`, one reducer per object, in object order.
   */
  mapReduce<R, S, A = unknown>(
    mapFn: TaskFunction<DataPartition, R, A>,
    data: string | readonly string[],
    reduceFn: TaskFunction<AsyncIterable<ReduceItem<Awaited<R>>>, S, A>,
    options: MapOptions<A> & { streamReduce: true },
  ): Promise<FutureList<Awaited<S>>>;
  /** With `streamReduce: true`, the reducer gets the map results as they complete (see {@link MapOptions.streamReduce}). */
  mapReduce<I, R, S, A = unknown>(
    mapFn: TaskFunction<I, R, A>,
    inputs: Inputs<NoInfer<I> | Future<NoInfer<I>>>,
    reduceFn: TaskFunction<AsyncIterable<ReduceItem<Awaited<R>>>, S, A>,
    options: MapOptions<A> & { streamReduce: true },
  ): Promise<FutureList<Awaited<S>>>;
  mapReduce<R, S, A = unknown>(
    mapFn: TaskFunction<DataPartition, R, A>,
    data: string | readonly string[],
    reduceFn: TaskFunction<Awaited<R>[], S, A>,
    options?: MapOptions<A>,
  ): Promise<FutureList<Awaited<S>>>;
  mapReduce<I, R, S, A = unknown>(
    mapFn: TaskFunction<I, R, A>,
    inputs: Inputs<NoInfer<I> | Future<NoInfer<I>>>,
    reduceFn: TaskFunction<Awaited<R>[], S, A>,
    options?: MapOptions<A>,
  ): Promise<FutureList<Awaited<S>>>;
  async mapReduce<R, S>(
    mapFn: TaskFunction<never, R, unknown>,
    inputs: Inputs<unknown> | string,
    reduceFn: TaskFunction<never, S, unknown>,
    options: MapOptions = {},
  ): Promise<FutureList<Awaited<S>>> {
    const { list, specs } = await this.prepareInputs(inputs, options);
    if (options.reducerOnePerObject && !specs) {
      throw new ConfigError(
        'reducerOnePerObject needs data inputs (object URIs, a prefix or local paths), not a list of values',
        { keyPath: 'reducerOnePerObject' },
      );
    }
    const mapped = await this.submit<Awaited<R>>('M', mapFn, list, options, { trackUnread: false });
    // Which map calls feed which reducer: all of them, or those of each object.
    const groups: number[][] = [];
    if (options.reducerOnePerObject && specs) specs.forEach((spec, i) => (groups[spec.objectIndex] ??= []).push(i));
    else groups.push(Array.from({ length: mapped.length }, (_, i) => i));
    const reduceJob = this.nextJobId('R');
    const reducers = groups.map((_, i) => FutureJob.alone<Awaited<S>>(this.executorId, reduceJob, i));
    this.track(reducers as Future<unknown>[], true);
    // The reducers' inputs are the map futures: references the workers read from storage.
    void startReducers(this.parts, mapped as Future<unknown>[], groups, reducers as Future<unknown>[], options, {
      retries: options.retries ?? this.options.retries,
      submit: (reduceInputs, linked) =>
        this.submit<Awaited<S>>('R', reduceFn, reduceInputs, options, {
          futures: reducers,
          jobId: reduceJob,
          trackUnread: false,
          linked,
        }),
    });
    return FutureList.from_(reducers, this.asChainHost());
  }

  /** Waits for futures (default: every unread future of this executor). */
  async wait<R>(futures?: readonly Future<R>[], options: WaitOptions = {}): Promise<WaitResult<R>> {
    const list = futures ?? (this.unreadFutures() as Future<R>[]);
    const stop = this.progress(list);
    try {
      return await waitFutures(list, options);
    } finally {
      stop();
    }
  }

  /** The result of one future. */
  getResult<R>(future: Future<R>, options?: GetResultOptions): Promise<R>;
  /** Results of the futures in input order; with `throwOnError: false` a failed call yields its error. */
  getResult<R>(
    futures: readonly Future<R>[],
    options: GetResultOptions & { throwOnError: false },
  ): Promise<Array<R | Error>>;
  getResult<R>(futures: readonly Future<R>[], options?: GetResultOptions): Promise<R[]>;
  /** Results of every future of this executor not read yet. */
  getResult(futures?: undefined, options?: GetResultOptions): Promise<unknown[]>;
  async getResult<R>(
    futures?: Future<R> | readonly Future<R>[],
    options: GetResultOptions = {},
  ): Promise<R | Array<R | Error>> {
    const single = futures instanceof Future;
    const list: readonly Future<R>[] = single ? [futures] : (futures ?? (this.unreadFutures() as Future<R>[]));
    const stop = this.progress(list);
    try {
      const results = await collectResults(list, options).catch((err: unknown) => {
        throw this.explainTimeout(err);
      });
      markRead(list);
      return single ? (results[0] as R) : results;
    } finally {
      stop();
    }
  }

  /** Yields futures as they finish. */
  asCompleted<R>(futures: readonly Future<R>[]): AsyncGenerator<Future<R>, void, undefined> {
    return asCompleted(futures);
  }

  /** Per-job aggregates of this executor's calls: states, queue/run/result times (min, median, p95, max), cold starts, attempts, bytes, hosts, estimated cost. */
  stats(): JobSummary[] {
    const backend = typeof this.options.backend === 'string' ? this.options.backend : this.options.backend.name;
    return summarize(this.history.flat(), { backend, memoryMB: this.options.runtimeMemory });
  }

  /** The stats as a text table, one block per job (`console.log(fexec.summary())`). */
  summary(): string {
    return formatSummary(this.stats());
  }

  /** Writes the timeline, concurrency and run-time histogram of every job as SVG files into `dir`; resolves with their paths. */
  async plot(options: { dir: string }): Promise<string[]> {
    const { plotTimeline } = await import('../stats/plot.js');
    return plotTimeline(this.history.flat(), options.dir);
  }

  /** Counters of what the executor and its backend did (processes spawned, crashed, storage requests). */
  counters(): Record<string, number> {
    return this.parts.counters();
  }

  /** Deletes this executor's job data from storage (bundles stay: they are shared by content). */
  async clean(): Promise<void> {
    this.history = [this.history.flat().filter((f) => !f.done)];
    const { storage } = await this.parts.ready();
    const prefix = keys.executor(this.executorId);
    const list = storage.list(this.options.bucket, prefix);
    await storage.delete(
      this.options.bucket,
      (async function* () {
        for await (const e of list) if ('key' in e) yield e.key;
      })(),
    );
  }

  /**
   * Stops every worker and releases processes, timers and sockets. Calls still pending fail with a
   * CancelledError, so nothing waits forever. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of [...this.live])
      for (const f of job.futures)
        f._reject(
          new CancelledError(`the executor was closed before call ${f.callId} of job ${f.jobId} finished`, {
            callId: f.callId,
            jobId: f.jobId,
            executorId: this.executorId,
          }),
        );
    this.live.clear();
    // The workers' exit takes longest: the primitives and the cache's writes close meanwhile. The lease
    // goes only once no worker of ours can run a call, so nobody resubmits one that still runs.
    const closing = [this.primitivesHost?.close(), flushCacheWrites(this.parts)];
    await this.parts.close({ beforeLease: closing, releaseLease: () => this.lease?.stop() });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Queues, locks, counters, values, barriers and events shared by this client and its tasks
   * (`ctx.primitives`), by name; deleted at `close()`. On Redis when `redis.url` is set, else in this
   * client's memory on the localhost backend. @throws ConfigError on other backends without Redis.
   */
  get primitives(): Primitives {
    return this.primitives_().primitives;
  }

  private primitives_(): PrimitivesHost {
    this.primitivesHost ??= new PrimitivesHost({
      mode: this.options.raw.primitives as PrimitivesMode | undefined,
      redis: this.options.raw.redis as RedisOptions | undefined,
      backend: typeof this.options.backend === 'string' ? this.options.backend : this.options.backend.name,
      executorId: this.executorId,
    });
    return this.primitivesHost;
  }

  /**
   * Where a job's tasks find the primitives (ctx.primitives). The workers of the IPC channel ask for
   * the local server when a task first uses it ({@link startPrimitives}); for any other the server
   * listens before the job is submitted.
   */
  private async primitivesEnv(): Promise<Record<string, string>> {
    const { backend } = await this.parts.ready();
    return this.primitives_().env(backend.direct !== undefined);
  }

  private readonly startPrimitives = (): Promise<void> => this.primitives_().serve();

  /** A wait that timed out while storage was unreachable fails with the storage error, which names the endpoint. */
  private explainTimeout(err: unknown): unknown {
    const trouble = this.parts.storageTrouble();
    if (!(err instanceof WaitTimeoutError) || !(trouble instanceof BurstError)) return err;
    trouble.message = `${trouble.message} (results could not be read, and ${err.message})`;
    return trouble;
  }

  /** Turns the inputs into call inputs: data inputs (URIs, paths) are planned into partitions. */
  private async prepareInputs(
    inputs: Inputs<unknown> | string,
    options: MapOptions,
  ): Promise<{ list: unknown[]; specs?: PartitionSpec[] }> {
    if (options.dataInputs === false || !isPartitionInput(inputs))
      return { list: await collectInputs(inputs as Inputs<unknown>) };
    validatePartitionOptions(options);
    const { storage } = await this.parts.ready();
    const raw = this.options.raw;
    const { planPartitions } = await import('../partition/planner.js');
    const specs = await planPartitions(inputs, options, {
      storage,
      uriDefaults: { ...(raw.s3 ? { s3: raw.s3 } : {}), ...(raw.fs ? { fs: raw.fs } : {}) } as PlanContextDefaults,
    });
    return { list: specs.map(markPartition), specs };
  }

  private nextJobId(prefix: JobKind): string {
    return `${prefix}${String(this.jobSeq++).padStart(3, '0')}`;
  }

  private async submit<R>(
    kind: JobKind,
    fn: (...a: never[]) => unknown,
    inputs: readonly unknown[],
    options: MapOptions,
    extra: { futures?: Future<R>[]; jobId?: string; trackUnread?: boolean; linked?: boolean } = {},
  ): Promise<Future<R>[]> {
    if (this.closed) throw new CancelledError('the executor is closed', { executorId: this.executorId });
    if (typeof fn !== 'function')
      throw new ConfigError(`the function to run must be a function, got ${typeof fn}`, { keyPath: 'fn' });
    assertCanPackage();
    checkCallOptions(options);
    checkControlOptions(options);
    // Inputs that are futures: the job goes out once they settle, with references in their place.
    if (!extra.linked && inputsHoldFutures(inputs)) return this.submitLinked(kind, fn, inputs, options, extra);
    const jobId = extra.jobId ?? this.nextJobId(kind);
    // The options are checked before any worker starts or future exists: a bad one leaves nothing behind.
    const backendName = typeof this.options.backend === 'string' ? this.options.backend : this.options.backend.name;
    const cacheOn = checkCacheOption(options.cache) ?? checkCacheOption(this.options.raw.cache) ?? false;
    const speculative = resolveSpeculative(options.speculative ?? this.options.raw.speculative);
    const settled: Omit<SubmitOptions, 'env'> = {
      ...(cacheOn ? { cache: cacheEnv(this.options.raw, backendName, options.env ?? {}) } : {}),
      ...(speculative ? { speculative } : {}),
      timeout: options.timeout ?? this.options.timeout,
      retries: options.retries ?? this.options.retries,
      hasArgs: 'extraArgs' in options,
      args: options.extraArgs,
      ...(options.chunksize ? { chunksize: options.chunksize } : {}),
      ...checkResources(options, backendName, this.options.runtimeMemory),
    };
    // The workers boot while the futures are made and the function is packaged, not after. An empty
    // map starts nothing, a cached one only once a call misses (submit.ts); a failure to start
    // surfaces in submitJob.
    if (inputs.length > 0 && !(options.cache ?? this.options.raw.cache)) {
      (await this.parts.ready().catch(() => undefined))?.backend.warm?.();
      if (this.closed) throw new CancelledError('the executor is closed', { executorId: this.executorId });
    }
    if (options.signal?.aborted)
      throw abortedError(`job ${jobId}`, options.signal, { jobId, executorId: this.executorId });
    const futures = extra.futures ?? newFutures<R>(this.executorId, jobId, inputs.length);
    // Futures made here are all pending and share one FutureJob: track and control them through it.
    const fresh = extra.futures ? undefined : listJob(futures);
    if (!extra.futures) this.track(futures as Future<unknown>[], extra.trackUnread ?? true, fresh);
    const control = new JobControl(
      futures as Future<unknown>[],
      { jobId, executorId: this.executorId },
      {
        ...(options.maxFailures !== undefined ? { maxFailures: options.maxFailures } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      fresh,
    );
    // Packaging starts first: it overlaps the primitives server and the lease below, as the workers'
    // boot (warm, above) overlaps all three. Awaited in submitJob, after the inputs are checked.
    const packaged = inputs.length > 0 ? startPackaging(this.parts, fn) : undefined;
    packaged?.catch(() => undefined); // a failure surfaces in submitJob; none goes unhandled before
    try {
      const [primitivesEnv] = await Promise.all([this.primitivesEnv(), this.holdLease()]);
      const opts: SubmitOptions = {
        ...settled,
        env: { ...primitivesEnv, ...options.env },
        startPrimitives: this.startPrimitives,
      };
      await submitJob(this.parts, fn, jobId, inputs, futures as Future<unknown>[], opts, control, packaged);
      // close() or the signal came while the job was being submitted: the calls are cancelled already.
      if (this.closed)
        throw new CancelledError(`the executor was closed while job ${jobId} was being submitted`, {
          jobId,
          executorId: this.executorId,
        });
      if (options.signal?.aborted)
        throw abortedError(`job ${jobId}`, options.signal, { jobId, executorId: this.executorId });
    } catch (err) {
      this.abandon(futures, jobId, err);
      throw err;
    }
    return futures;
  }

  /** Nothing may wait forever on a job that was not submitted: its futures fail with why. */
  private abandon<R>(futures: Future<R>[], jobId: string, err: unknown): void {
    const reason =
      err instanceof BurstError
        ? err
        : new CancelledError(`job ${jobId} could not be submitted: ${(err as Error)?.message ?? String(err)}`, {
            jobId,
            executorId: this.executorId,
            cause: err,
          });
    for (const f of futures) f._reject(reason); // each leaves `live` as it settles
    markRead(futures); // not submitted: not among the unread
  }

  /** Makes the futures now and submits the job once the futures among its inputs have settled (./chain.ts). */
  private submitLinked<R>(
    kind: JobKind,
    fn: (...a: never[]) => unknown,
    inputs: readonly unknown[],
    options: MapOptions,
    extra: { futures?: Future<R>[]; jobId?: string; trackUnread?: boolean },
  ): Future<R>[] {
    const jobId = extra.jobId ?? this.nextJobId(kind);
    const futures = extra.futures ?? newFutures<R>(this.executorId, jobId, inputs.length);
    if (!extra.futures) this.track(futures as Future<unknown>[], extra.trackUnread ?? true);
    submitWhenLinked(this.parts, inputs, futures as Future<unknown>[], (linked) =>
      this.submit(kind, fn, linked, options, { ...extra, futures, jobId, linked: true }),
    );
    return futures;
  }

  /** This executor as the host of `futures.map()` / `futures.mapReduce()` chaining. */
  private asChainHost(): ChainHost {
    return this as unknown as ChainHost;
  }

  /** Takes (once) and keeps renewing the client lease that tells other processes this client lives. */
  private async holdLease(): Promise<void> {
    if (!this.lease) {
      const { storage } = await this.parts.ready();
      this.lease = new ClientLease(storage, this.options.bucket, this.executorId, this.leaseSeconds);
    }
    await this.lease.start();
  }

  private track(futures: Future<unknown>[], unread: boolean, fresh?: FutureJob): void {
    const job = { futures, left: 0 };
    const settled = (): void => {
      if (--job.left === 0) this.live.delete(job);
    };
    if (fresh) {
      job.left = futures.length;
      fresh.onDone = settled;
    } else {
      for (const f of futures) {
        if (f.done) continue;
        job.left++;
        f._job.onDone = settled; // one write per job when its futures share one FutureJob
      }
    }
    if (job.left > 0) this.live.add(job);
    this.history.push(futures);
    if (unread) this.unread.push(futures);
  }

  /** The futures `getResult` has not returned yet, in submission order (the list is compacted to them). */
  private unreadFutures(): Future<unknown>[] {
    const left: Future<unknown>[] = [];
    for (const list of this.unread) {
      if (listJob(list)?.allRead) continue; // read whole: its futures need not be made
      for (const f of list) if (!f._read) left.push(f);
    }
    this.unread = [left];
    return left;
  }

  private progress(futures: readonly Future<unknown>[]): () => void {
    return this.options.progress ? showProgress(futures, () => countDone(futures)) : () => {};
  }
}

type PlanContextDefaults = NonNullable<Parameters<typeof planPartitions>[2]['uriDefaults']>;

async function collectInputs<I>(inputs: Inputs<I>): Promise<I[]> {
  if (Array.isArray(inputs)) return inputs as I[];
  if (typeof inputs === 'string') {
    throw new ConfigError(
      `inputs must be an array, an iterable or data URIs; the string ${JSON.stringify(inputs)} is not a storage URI or an existing local path`,
      { keyPath: 'inputs' },
    );
  }
  if (inputs === null || inputs === undefined || (typeof inputs !== 'object' && typeof inputs !== 'function')) {
    throw new ConfigError(
      `inputs must be an array, an iterable or an async iterable, got ${inputs === null ? 'null' : typeof inputs}`,
      { keyPath: 'inputs' },
    );
  }
  if (Symbol.asyncIterator in inputs) {
    const out: I[] = [];
    for await (const x of inputs as AsyncIterable<I>) out.push(x);
    return out;
  }
  if (Symbol.iterator in inputs) return Array.from(inputs as Iterable<I>);
  throw new ConfigError('inputs must be an array, an iterable or an async iterable, got an object', {
    keyPath: 'inputs',
  });
}

/** One future per call, all with the same submit time; made when the list is first read (./future.ts). */
function newFutures<R>(executorId: string, jobId: string, n: number): Future<R>[] {
  return FutureList.lazy_<R>(new FutureJob(executorId, jobId, new StatsColumns(n, Date.now())));
}

/** Marks the futures returned by `getResult`: a whole job at once when its list's futures are not made. */
function markRead(futures: readonly Future<unknown>[]): void {
  const job = listJob(futures);
  if (job && job.size === futures.length) job.markAllRead();
  else for (const f of futures) f._read = true;
}
