/**
 * Waiting on futures: `wait` (all, any, or now), and `asCompleted` (an async iterator in finishing order).
 */
import type { Future } from './future.js';
import { raceSignal } from './abort.js';

/** When {@link waitFutures} returns. */
export type ReturnWhen = 'ALL_COMPLETED' | 'ANY_COMPLETED' | 'ALWAYS';

/** Options of `wait`. */
export interface WaitOptions {
  /** @default 'ALL_COMPLETED' */
  returnWhen?: ReturnWhen;
  /** Seconds to wait at most; then returns what is done so far. @default no limit */
  timeout?: number;
  /** Throw the first failed call's error instead of returning it among `done`. @default false */
  throwOnError?: boolean;
  /**
   * Stops waiting when aborted: the wait rejects with a CancelledError whose `cause` is the signal's
   * reason. The calls go on (cancel them with `futures.cancel()`). @default none
   */
  signal?: AbortSignal;
}

/** The futures that are done and those still pending. */
export interface WaitResult<R> {
  done: Future<R>[];
  pending: Future<R>[];
}

/** Waits for futures as {@link WaitOptions} says and splits them into done and pending. */
export async function waitFutures<R>(futures: readonly Future<R>[], options: WaitOptions = {}): Promise<WaitResult<R>> {
  if (options.signal) {
    const { signal, ...rest } = options;
    return raceSignal(waitFutures(futures, rest), signal, `wait for ${futures.length} calls`);
  }
  const returnWhen = options.returnWhen ?? 'ALL_COMPLETED';
  if (returnWhen !== 'ALWAYS' && futures.length > 0) {
    const all = Array.from(futures, (f) => f.settled());
    const goal = returnWhen === 'ANY_COMPLETED' ? Promise.race(all) : Promise.all(all);
    let timer: NodeJS.Timeout | undefined;
    const limit =
      options.timeout === undefined
        ? undefined
        : new Promise<void>((resolve) => {
            timer = setTimeout(resolve, options.timeout! * 1000);
          });
    await (limit ? Promise.race([goal, limit]) : goal);
    if (timer) clearTimeout(timer);
  }
  const done = futures.filter((f) => f.done);
  if (options.throwOnError) {
    const failed = done.find((f) => f.status === 'error');
    if (failed) throw failed.error;
  }
  return { done, pending: futures.filter((f) => !f.done) };
}

/** Yields futures as they finish, in finishing order. */
export async function* asCompleted<R>(futures: readonly Future<R>[]): AsyncGenerator<Future<R>, void, undefined> {
  const finished: Future<R>[] = [];
  let wake: (() => void) | undefined;
  for (const f of futures) {
    void f.settled().then(() => {
      finished.push(f);
      wake?.();
    });
  }
  for (let yielded = 0; yielded < futures.length; yielded++) {
    while (finished.length === 0)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    wake = undefined;
    yield finished.shift() as Future<R>;
  }
}
