/**
 * `pMap(inputs, fn, options)`: p-map's call shape over a {@link Pool}, so a p-map program moves to
 * Burst by changing its import. Each call without a `pool` starts a pool and closes it when done.
 */
import type { TaskFunction } from '../executor/executor.js';
import type { CallResult } from '../executor/stored-result.js';
import type { ExecutorOptions } from '../config/defaults.js';
import { Pool, type PoolMapOptions } from './pool.js';

/** Options of {@link pMap}: p-map's (`concurrency`, `stopOnError`, `signal`), Burst's map options, and where to run. */
export interface PMapOptions<A = unknown> extends PoolMapOptions<A> {
  /** Run on this pool (left open). @default a pool of its own, closed when the map settles */
  pool?: Pool;
  /** Options of the pool's executor when `pool` is not given (`backend`, `storage`, …). @default the config file and `BURST_*` variables */
  executor?: ExecutorOptions;
}

/**
 * Runs `fn` over `inputs` on Burst with p-map's semantics and argument order. `fn` runs in a worker:
 * it gets `(input, ctx)` rather than p-map's `(input, index)` (`ctx.callId` is the index when
 * the whole list goes as one job: `concurrency` `Infinity` and a sync iterable), and must not use variables of the calling module.
 *
 * @example
 * ```ts
 * import { pMap } from 'burst-compute'; // was: import pMap from 'p-map';
 * const sizes = await pMap(urls, async (url) => (await fetch(url)).headers.get('content-length'), { concurrency: 8 });
 * ```
 */
export async function pMap<I, R, A = unknown>(
  inputs: Iterable<I | PromiseLike<I>> | AsyncIterable<I>,
  fn: TaskFunction<I, R, A>,
  options: PMapOptions<A> = {},
): Promise<Array<CallResult<R>>> {
  const { pool, executor, ...mapOptions } = options;
  if (pool) return pool.map(fn, inputs, mapOptions);
  const own = new Pool(executor ?? {});
  let results: Array<CallResult<R>>;
  try {
    results = await own.map(fn, inputs, mapOptions);
  } catch (err) {
    // As with p-map, calls already started go on; the pool closes once they are done.
    void own.close().catch(() => undefined);
    throw err;
  }
  await own.close();
  return results;
}
