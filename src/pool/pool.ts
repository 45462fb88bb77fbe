/**
 * `Pool`: the shape of Piscina and p-map (`run`, `map` with `concurrency`, `signal` and
 * `stopOnError`, `imap`, `imapUnordered`, `close`, `destroy`, `await using`) over a
 * {@link FunctionExecutor}, so code written for a worker pool moves to any Burst backend by changing
 * its imports. It adds no engine of its own: every call is a `callAsync` or `map` of the executor.
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { CancelledError, ConfigError } from '../errors.js';
import type { ExecutorOptions } from '../config/defaults.js';
import { FunctionExecutor, type MapOptions, type TaskFunction } from '../executor/executor.js';
import { abortedError, raceSignal } from '../executor/abort.js';
import type { CallResult } from '../executor/stored-result.js';
import type { Future } from '../executor/future.js';
import { checkConcurrency, checkInputs, runWindow, type Settled, type WindowControl } from './window.js';

/** Options of a {@link Pool}: the executor's options, or an executor to run on. */
export interface PoolOptions extends ExecutorOptions {
  /** Run on this executor instead of creating one; `close()` and `destroy()` then leave it open. @default a new executor */
  executor?: FunctionExecutor;
  /**
   * A module (path or `file:` URL) whose export runs when `run`/`map` get no function, as in Piscina:
   * `new Pool({ filename: new URL('./task.mjs', import.meta.url).href })`. @default none
   */
  filename?: string;
  /** The export of `filename` to run; `run(input, { name })` picks another. @default 'default' */
  name?: string;
  /** Calls in flight at most, for `map`/`imap` that do not set their own. @default Infinity */
  concurrency?: number;
}

/** Options of {@link Pool.map}, {@link Pool.imap} and {@link Pool.imapUnordered}: p-map's, and those of `FunctionExecutor.map`. */
export interface PoolMapOptions<A = unknown> extends MapOptions<A> {
  /** Calls in flight at most: an integer from 1 up, or `Infinity` (then one job takes every input). @default the pool's `concurrency` */
  concurrency?: number;
  /**
   * `true`: reject with the first call's error (calls already started go on). `false`: wait for every
   * call, then reject with an `AggregateError` holding each error, in input order.
   * @default true
   */
  stopOnError?: boolean;
}

/** Options of {@link Pool.run}. */
export interface PoolRunOptions<A = unknown> extends MapOptions<A> {
  /** With a `filename` pool: the export to run. @default the pool's `name` */
  name?: string;
}

/** A pool of workers on any Burst backend with the API of Piscina and p-map. */
export class Pool implements AsyncDisposable {
  /** The executor every call goes through. */
  readonly executor: FunctionExecutor;
  private readonly owned: boolean;
  private readonly filename: string | undefined;
  private readonly defaultName: string;
  private readonly concurrency: number;
  private readonly pending = new Set<Promise<unknown>>();
  /** The futures of calls not settled, for `destroy()`. */
  private readonly futures = new Set<Future<unknown>>();
  private state: 'open' | 'closing' | 'closed' = 'open';

  constructor(options: PoolOptions = {}) {
    const { executor, filename, name = 'default', concurrency, ...executorOptions } = options;
    this.concurrency = checkConcurrency(concurrency);
    if (filename !== undefined && (typeof filename !== 'string' || filename === ''))
      throw new ConfigError(`filename must be a module path or file: URL, got ${JSON.stringify(filename)}`, {
        keyPath: 'filename',
      });
    this.filename = filename;
    this.defaultName = name;
    this.owned = executor === undefined;
    this.executor = executor ?? new FunctionExecutor(executorOptions);
  }

  /** Runs `fn(input)` once and resolves with its result. */
  run<I, R, A = unknown>(
    fn: TaskFunction<I, R, A>,
    input: NoInfer<I>,
    options?: PoolRunOptions<A>,
  ): Promise<CallResult<R>>;
  /** With a `filename` pool: runs the module's export (`options.name`, else the pool's) on `input`. */
  run<R = unknown>(input: unknown, options?: PoolRunOptions): Promise<R>;
  run(a: unknown, b?: unknown, c?: unknown): Promise<unknown> {
    const named = typeof a !== 'function';
    const options = ((named ? b : c) ?? {}) as PoolRunOptions;
    const { name, ...mapOptions } = options;
    return this.track(async () => {
      const fn = named ? await this.exported(name) : (a as TaskFunction<unknown, unknown>);
      const future = await this.executor.callAsync(fn, named ? a : b, { ...mapOptions, dataInputs: false });
      return this.watch(future);
    });
  }

  /**
   * Runs `fn` over every input, at most `concurrency` at a time, and resolves with the results in
   * input order (p-map's semantics; see {@link PoolMapOptions.stopOnError}).
   */
  map<I, R, A = unknown>(
    fn: TaskFunction<I, R, A>,
    inputs: Iterable<I | PromiseLike<I>> | AsyncIterable<I>,
    options: PoolMapOptions<A> = {},
  ): Promise<Array<CallResult<R>>> {
    return this.track(async () => {
      const { stopOnError = true, signal } = options;
      if (typeof stopOnError !== 'boolean')
        throw new ConfigError(`stopOnError must be a boolean, got ${JSON.stringify(stopOnError)}`, {
          keyPath: 'stopOnError',
        });
      const control: WindowControl = { stopped: false };
      const collect = async (): Promise<Array<CallResult<R>>> => {
        const results: Array<CallResult<R>> = [];
        const errors: Array<[number, unknown]> = [];
        for await (const s of this.window(fn, inputs, options, control)) {
          if (!s.ok && (stopOnError || 'source' in s)) throw s.error;
          if (s.ok) results[s.index] = s.value;
          else errors.push([s.index, s.error]);
        }
        if (errors.length > 0)
          throw new AggregateError(
            errors.sort((x, y) => x[0] - y[0]).map((e) => e[1]),
            `${errors.length} of ${results.length + errors.length} calls failed`,
          );
        return results;
      };
      try {
        const collected = collect();
        // Once the signal won the race, the collection's own rejection is expected, not unhandled.
        collected.catch(() => undefined);
        return await raceSignal(collected, signal, 'Pool.map', { executorId: this.executor.executorId });
      } finally {
        control.stopped = true;
      }
    });
  }

  /** Like {@link Pool.map}, but yields each result in input order as soon as it and those before it are in. */
  async *imap<I, R, A = unknown>(
    fn: TaskFunction<I, R, A>,
    inputs: Iterable<I | PromiseLike<I>> | AsyncIterable<I>,
    options: PoolMapOptions<A> = {},
  ): AsyncGenerator<CallResult<R>, void, undefined> {
    const held = new Map<number, CallResult<R>>();
    let next = 0;
    for await (const value of this.iterate(fn, inputs, options)) {
      held.set(value.index, value.value);
      while (held.has(next)) {
        const v = held.get(next) as CallResult<R>;
        held.delete(next++);
        yield v;
      }
    }
  }

  /** Like {@link Pool.map}, but yields each result as soon as its call finishes, in completion order. */
  async *imapUnordered<I, R, A = unknown>(
    fn: TaskFunction<I, R, A>,
    inputs: Iterable<I | PromiseLike<I>> | AsyncIterable<I>,
    options: PoolMapOptions<A> = {},
  ): AsyncGenerator<CallResult<R>, void, undefined> {
    for await (const value of this.iterate(fn, inputs, options)) yield value.value;
  }

  /** Calls still running (started by `run`, `map`, `imap` or `imapUnordered` and not settled). */
  get queueSize(): number {
    return this.pending.size;
  }

  /** Refuses new work, waits for the work started, then closes the executor (unless it was passed in). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closing';
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    this.state = 'closed';
    if (this.owned) await this.executor.close();
  }

  /** Stops at once: calls not finished fail with a CancelledError, and the executor closes (unless passed in). */
  async destroy(): Promise<void> {
    this.state = 'closed';
    for (const f of this.futures) f.cancel('the pool was destroyed');
    this.futures.clear();
    if (this.owned) await this.executor.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Outcomes of a windowed run, rejecting as `stopOnError` says; shared by `imap` and `imapUnordered`. */
  private async *iterate<I, R, A>(
    fn: TaskFunction<I, R, A>,
    inputs: Iterable<I | PromiseLike<I>> | AsyncIterable<I>,
    options: PoolMapOptions<A>,
  ): AsyncGenerator<{ index: number; value: CallResult<R> }, void, undefined> {
    this.checkOpen();
    const control: WindowControl = { stopped: false };
    const errors: Array<[number, unknown]> = [];
    const { signal, stopOnError = true } = options;
    try {
      for await (const s of this.window(fn, inputs, options, control)) {
        if (signal?.aborted) throw abortedError('Pool.imap', signal, { executorId: this.executor.executorId });
        if (s.ok) yield { index: s.index, value: s.value };
        else if (stopOnError || 'source' in s) throw s.error;
        else errors.push([s.index, s.error]);
      }
    } finally {
      control.stopped = true;
    }
    if (errors.length > 0)
      throw new AggregateError(
        errors.sort((x, y) => x[0] - y[0]).map((e) => e[1]),
        `${errors.length} calls failed`,
      );
  }

  private window<I, R, A>(
    fn: TaskFunction<I, R, A>,
    inputs: Iterable<I | PromiseLike<I>> | AsyncIterable<I>,
    options: PoolMapOptions<A>,
    control: WindowControl,
  ): AsyncGenerator<Settled<CallResult<R>>, void, undefined> {
    const { concurrency, stopOnError: _, ...mapOptions } = options;
    const limit = concurrency === undefined ? this.concurrency : checkConcurrency(concurrency);
    checkInputs(inputs);
    if (typeof fn !== 'function')
      throw new ConfigError(`the function to run must be a function, got ${typeof fn}`, { keyPath: 'fn' });
    if (mapOptions.signal?.aborted)
      throw abortedError('Pool.map', mapOptions.signal, { executorId: this.executor.executorId });
    const start = async (list: I[]): Promise<Array<Promise<CallResult<R>>>> => {
      if (mapOptions.signal?.aborted)
        throw abortedError('Pool.map', mapOptions.signal, { executorId: this.executor.executorId });
      // One input: one call. Many (infinite concurrency): one job, whose calls run side by side.
      const futures =
        list.length === 1
          ? [await this.executor.callAsync(fn, list[0] as I, { ...mapOptions, dataInputs: false })]
          : await this.executor.map(fn, list, { ...mapOptions, dataInputs: false });
      return Array.from(futures, (f) => this.watch(f));
    };
    return runWindow(inputs, start, limit, control);
  }

  private checkOpen(): void {
    if (this.state !== 'open')
      throw new CancelledError(`the pool is ${this.state === 'closing' ? 'closing' : 'closed'}: it takes no new work`, {
        executorId: this.executor.executorId,
      });
  }

  /** Runs `work` counted as pending, so `close()` waits for it. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    try {
      this.checkOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.hold(work());
  }

  /** The future's result, its call counted as the pool's until it settles. */
  private watch<R>(future: Future<R>): Promise<R> {
    this.futures.add(future as Future<unknown>);
    return this.hold(future.result()).finally(() => this.futures.delete(future as Future<unknown>));
  }

  private hold<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const forget = (): void => {
      this.pending.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  /** The export of the pool's `filename` module to run. */
  private async exported(name: string | undefined): Promise<TaskFunction<unknown, unknown>> {
    if (this.filename === undefined)
      throw new ConfigError(
        'run(input) without a function needs a pool created with a filename (new Pool({ filename })); otherwise pass the function: run(fn, input)',
        { keyPath: 'filename' },
      );
    const url = /^file:/.test(this.filename)
      ? this.filename
      : pathToFileURL(isAbsolute(this.filename) ? this.filename : resolve(this.filename)).href;
    const mod = (await import(url)) as Record<string, unknown>;
    const key = name ?? this.defaultName;
    let fn = mod[key];
    // A CommonJS module whose module.exports is the function arrives as `default`.
    if (typeof fn !== 'function' && key === 'default' && typeof mod['module.exports'] === 'function')
      fn = mod['module.exports'];
    if (typeof fn !== 'function')
      throw new ConfigError(
        `${this.filename} has no function export "${key}" (it exports ${Object.keys(mod).join(', ') || 'nothing'})`,
        { keyPath: 'name' },
      );
    return fn as TaskFunction<unknown, unknown>;
  }
}
