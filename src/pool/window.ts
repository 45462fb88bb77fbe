/**
 * The scheduler under `Pool.map`, `imap` and `imapUnordered`: reads the inputs (an iterable or an
 * async iterable, whose items may be promises), keeps at most `concurrency` calls in flight, and
 * reports each call's outcome as it settles. It starts calls through a callback, so it knows nothing
 * of executors; the Pool hands it `FunctionExecutor.callAsync` (or one `map` for the whole list).
 */
import { ConfigError } from '../errors.js';

/** The outcome of one input's call, in completion order. */
export type Settled<R> =
  | { index: number; ok: true; value: R }
  | { index: number; ok: false; error: unknown }
  /** Reading the inputs themselves failed (the iterator threw): no index. */
  | { index: -1; ok: false; error: unknown; source: true };

/** Starts the calls of `inputs` (whose positions in the whole input are `first`, `first + 1`, …). */
export type Starter<I, R> = (inputs: I[], first: number) => Promise<Array<Promise<R>>>;

/** Checks `concurrency` as p-map does: an integer ≥ 1, or `Infinity`. */
export function checkConcurrency(value: unknown): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (value === Number.POSITIVE_INFINITY || (typeof value === 'number' && Number.isInteger(value) && value >= 1))
    return value as number;
  throw new ConfigError(
    `concurrency must be an integer from 1 and up or Infinity, got ${typeof value === 'number' ? value : (JSON.stringify(value) ?? typeof value)}`,
    { keyPath: 'concurrency' },
  );
}

/** Checks that `inputs` is an iterable or an async iterable (p-map's rule), before any call starts. */
export function checkInputs(inputs: unknown): void {
  const ok =
    inputs !== null &&
    (typeof inputs === 'object' || typeof inputs === 'function') &&
    (Symbol.iterator in (inputs as object) || Symbol.asyncIterator in (inputs as object));
  if (!ok || typeof inputs === 'string')
    throw new ConfigError(
      `inputs must be an Iterable or an AsyncIterable, got ${inputs === null ? 'null' : typeof inputs}`,
      { keyPath: 'inputs' },
    );
}

/** Lets the consumer stop the window early: no input is read and no call started after `stop()`. */
export interface WindowControl {
  stopped: boolean;
}

/**
 * Yields every call's outcome as it settles. With infinite concurrency and an array (or other sync
 * iterable) the whole input goes to `start` at once, so the Pool can submit one job; otherwise one
 * input at a time, at most `concurrency` in flight.
 */
export async function* runWindow<I, R>(
  inputs: Iterable<I | PromiseLike<I>> | AsyncIterable<I>,
  start: Starter<I, R>,
  concurrency: number,
  control: WindowControl,
): AsyncGenerator<Settled<R>, void, undefined> {
  const done: Settled<R>[] = [];
  let wake: (() => void) | undefined;
  let inFlight = 0;
  const watch = (p: Promise<R>, index: number): void => {
    inFlight++;
    p.then(
      (value) => done.push({ index, ok: true, value }),
      (error: unknown) => done.push({ index, ok: false, error }),
    ).finally(() => {
      inFlight--;
      wake?.();
    });
  };
  const sync = !(Symbol.asyncIterator in inputs);
  if (sync && concurrency === Number.POSITIVE_INFINITY) {
    let all: I[];
    try {
      all = await Promise.all(Array.from(inputs as Iterable<I | PromiseLike<I>>));
    } catch (error) {
      yield { index: -1, ok: false, error, source: true };
      return;
    }
    if (all.length > 0) (await start(all, 0)).forEach(watch);
  } else {
    const it = sync
      ? (inputs as Iterable<I | PromiseLike<I>>)[Symbol.iterator]()
      : (inputs as AsyncIterable<I>)[Symbol.asyncIterator]();
    let index = 0;
    let exhausted = false;
    while (!exhausted || inFlight > 0 || done.length > 0) {
      // Outcomes first: a consumer that stops on an error must stop before the next call starts.
      yield* drain();
      while (!exhausted && !control.stopped && inFlight < concurrency) {
        let item: I;
        try {
          const r = await it.next();
          if (r.done) {
            exhausted = true;
            break;
          }
          item = await r.value;
        } catch (error) {
          exhausted = true;
          yield { index: -1, ok: false, error, source: true };
          break;
        }
        const [p] = await start([item], index);
        watch(p as Promise<R>, index++);
      }
      if (control.stopped) exhausted = true;
      yield* drain();
      if (inFlight > 0 && done.length === 0) await settledOne();
    }
    return;
  }
  while (inFlight > 0 || done.length > 0) {
    yield* drain();
    if (inFlight > 0 && done.length === 0) await settledOne();
  }

  function* drain(): Generator<Settled<R>> {
    while (done.length > 0) yield done.shift() as Settled<R>;
  }
  function settledOne(): Promise<void> {
    return new Promise<void>((resolve) => {
      wake = () => {
        wake = undefined;
        resolve();
      };
    });
  }
}
