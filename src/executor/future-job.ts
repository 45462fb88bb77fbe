/**
 * What the futures of one job share (./future.ts): the job's ids, stats columns, control and
 * bookkeeping, held once per job rather than in each of its (up to 10^6) futures; and the work
 * done on all of a job's futures at once.
 */
import type { CallStats, Future } from './future.js';
import type { StatsColumns } from './stats-columns.js';

/** @internal: what a future knows of its job (./job-control.ts), without importing it. */
export interface FutureControl {
  cancel(callIds: readonly number[] | undefined, why: string): number;
  settled(future: Future<unknown>): void;
}

/**
 * @internal: what every future of one job shares, held once per job rather than in each future: a
 * map of 10^6 calls makes 10^6 futures, and on a VM each MB of fresh heap costs milliseconds.
 */
export class FutureJob {
  /** Told once per future when it is done (the executor's bookkeeping; cheaper than a promise). */
  onDone: ((future: unknown) => void) | undefined;
  /** The job's control, for cancel and maxFailures. */
  control: FutureControl | undefined;
  /** Which futures `getResult` returned: a flag per row of the columns (made at the first), or one for a future made alone. */
  private reads: Uint8Array | boolean = false;
  constructor(
    readonly executorId: string,
    readonly jobId: string,
    /** The job's stats columns (row `callId`); undefined for a future made alone. */
    readonly cols: StatsColumns | undefined,
    /** The stats of a future made alone (its FutureJob is its own). */
    readonly own?: CallStats,
  ) {}

  /** Whether `getResult` returned future `callId`. */
  isRead(callId: number): boolean {
    const r = this.reads;
    return typeof r === 'boolean' ? r : r[callId] === 1;
  }

  markRead(callId: number, read: boolean): void {
    if (!this.cols) this.reads = read;
    else {
      if (typeof this.reads === 'boolean') {
        if (!read) return;
        this.reads = new Uint8Array(this.cols.size);
      }
      this.reads[callId] = read ? 1 : 0;
    }
  }
}

/**
 * @internal: the stats columns `futures` are the rows of, in order, when they are exactly one job's (as `map`
 * makes them): their shared times are then read and written once, not once per future.
 */
export function jobColumns(futures: readonly Future<unknown>[]): StatsColumns | undefined {
  const cols = futures[0]?._cols;
  if (!cols || cols.size !== futures.length) return undefined;
  for (let i = 0; i < futures.length; i++) {
    const f = futures[i] as Future<unknown>;
    if (f._job.cols !== cols || f.callId !== i) return undefined;
  }
  return cols;
}

/**
 * @internal: marks every future invoked at `invoked`, submitted at `submitted`. When they are all
 * the rows of one job's columns, that is one number each, not a write per call.
 */
export function markAllInvoked(
  futures: readonly Future<unknown>[],
  invoked: number,
  submitted: number,
  cols = jobColumns(futures),
): void {
  if (cols) {
    cols.invoked.setAll(invoked);
    cols.submitted.setAll(submitted);
  } else {
    for (const f of futures) {
      f._stat('invoked', invoked);
      f._stat('submitted', submitted);
    }
  }
  for (const f of futures) f._setStatus('invoked');
}
