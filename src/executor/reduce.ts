/**
 * The reducers of `mapReduce`: their inputs are the map futures, so on the storage channel each
 * reducer reads the map results from storage and none passes through the client. With
 * `streamReduce` a reducer starts once the first map call has finished and gets an async iterable of
 * the results in completion order (worker/result-feed.ts); on the localhost IPC channel, where
 * results are not in storage, it starts when the maps are done and gets them in the same order.
 */
import { BurstError, CancelledError } from '../errors.js';
import { carryRefs, feedRef } from '../worker/input-refs.js';
import type { FeedSpec, ReduceItem } from '../worker/result-feed.js';
import type { Future } from './future.js';
import type { ExecutorParts } from './parts.js';

/** What the reducers need from the executor. */
export interface ReduceRun {
  /** The map job's `retries`: a reducer reading results as they come must know which failure is final. */
  retries: number;
  /** Submits the reduce job; `linked` when its inputs hold no futures left to wait for. */
  submit: (inputs: unknown[], linked: boolean) => Promise<unknown>;
}

/** Submits the reduce job for `groups` (map call ids per reducer); a failure rejects the reducers. */
export async function startReducers(
  parts: ExecutorParts,
  mapped: readonly Future<unknown>[],
  groups: readonly number[][],
  reducers: readonly Future<unknown>[],
  options: { streamReduce?: boolean; oomRetry?: unknown },
  run: ReduceRun,
): Promise<void> {
  try {
    if (!options.streamReduce) {
      await run.submit(
        groups.map((g) => g.map((i) => mapped[i])),
        false,
      );
      return;
    }
    const { backend } = await parts.ready();
    const first = mapped[0];
    const at = { executorId: first?.executorId ?? parts.executorId, jobId: first?.jobId ?? '' };
    if (backend.direct) {
      await Promise.all(Array.from(mapped, (f) => f.settled()));
      await run.submit(
        groups.map((g) => carryRefs(feedRef({ ...at, callIds: g, retries: run.retries, ...completed(mapped, g) }))),
        true,
      );
      return;
    }
    if (mapped.length > 0) await Promise.race(Array.from(mapped, (f) => f.settled()));
    const spec = (g: number[]): FeedSpec => ({
      ...at,
      bucket: parts.options.bucket,
      callIds: g,
      retries: run.retries,
      ...(options.oomRetry ? { oomRetry: true } : {}),
    });
    await run.submit(
      groups.map((g) => carryRefs(feedRef(spec(g)))),
      true,
    );
  } catch (err) {
    const reason =
      err instanceof BurstError
        ? err
        : new CancelledError(`the reducers could not be submitted: ${String(err)}`, { cause: err });
    for (const f of reducers) f._reject(reason);
  }
}

/** The group's results in the order their calls completed, and the first failure, if any. */
function completed(mapped: readonly Future<unknown>[], group: readonly number[]): Pick<FeedSpec, 'values' | 'failed'> {
  const order = group
    .map((callId, index) => ({ callId, index, f: mapped[callId] as Future<unknown> }))
    .sort((a, b) => (a.f.stats.resultReceived ?? 0) - (b.f.stats.resultReceived ?? 0) || a.callId - b.callId);
  const values: ReduceItem[] = [];
  for (const { callId, index, f } of order) {
    if (f.status === 'error') {
      const e = f.error;
      return {
        values,
        failed: {
          callId,
          name: e?.name ?? 'Error',
          message: e?.message ?? 'it failed',
          ...(e ? { code: e.code } : {}),
        },
      };
    }
    values.push({ index, callId, value: f._value() });
  }
  return { values };
}
