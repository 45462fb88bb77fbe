/**
 * What the futures of one job share (./future.ts): the job's ids, stats columns, control and
 * bookkeeping, and every call's state (status, value, error, waiters), held once per job in columns
 * rather than in each of its (up to 10^6) futures. A future is a handle on one row: the job can
 * settle a call, and a map can hand out its futures, without making an object per call.
 */
import { CancelledError, type BurstError } from '../errors.js';
import { type CallStats, Future, type FutureStatus } from './future.js';
import type { StatsColumns } from './stats-columns.js';
import type { WorkerCallStats, WorkerIdentity } from '../worker/protocol.js';

/** @internal: what a future knows of its job (./job-control.ts), without importing it. */
export interface FutureControl {
  cancel(callIds: readonly number[] | undefined, why: string): number;
  /** A call of the job settled; `failed` when it failed other than by being cancelled. */
  settled(failed: boolean): void;
}

/** Status codes of the `codes` column (0 is 'new': a fresh column); a call is done from SUCCESS on. */
const INVOKED = 1;
const RUNNING = 2;
const SUCCESS = 3;
const ERROR = 4;
const NAMES: readonly FutureStatus[] = ['new', 'invoked', 'running', 'success', 'error'];
const CODES: Readonly<Record<'invoked' | 'running', number>> = { invoked: INVOKED, running: RUNNING };

/** What few calls need (a failure, logs, waiters, earlier attempts, a stored result being fetched). */
export interface CallExtra {
  error?: BurstError;
  logs?: string;
  waiters?: Array<() => void>;
  attempts?: BurstError[];
  loading?: Promise<unknown>;
}

/**
 * @internal: what every future of one job shares: a map of 10^6 calls makes 10^6 futures, and on a
 * VM the garbage collector's copying of each fresh one costs more than the call itself.
 */
export class FutureJob {
  /** Told once per call when it is done (the executor's bookkeeping; cheaper than a promise). */
  onDone: (() => void) | undefined;
  /** The job's control, for cancel and maxFailures. */
  control: FutureControl | undefined;
  /** Rows; call id of row 0 (a future made alone is a job of one row, its own call id). */
  readonly size: number;
  readonly offset: number;
  /** Which futures `getResult` returned: a flag per row (made at the first), or one for a job of one row. */
  private reads: Uint8Array | boolean = false;
  private readonly codes: Uint8Array;
  /** Each call's value (a LazyResult while a result stored apart is not fetched). */
  private readonly values: unknown[];
  private extras: Map<number, CallExtra> | undefined;

  constructor(
    readonly executorId: string,
    readonly jobId: string,
    /** The job's stats columns (row `callId`); undefined for a future made alone. */
    readonly cols: StatsColumns | undefined,
    /** The stats of a future made alone (its FutureJob is its own). */
    readonly own?: CallStats,
    callId = 0,
  ) {
    this.size = cols ? cols.size : 1;
    this.offset = cols ? 0 : callId;
    this.codes = new Uint8Array(this.size);
    this.values = new Array(this.size);
  }

  /** A future made alone, not by a map (a reducer, a re-run, an attached call): a job of one row. */
  static alone<R>(executorId: string, jobId: string, callId: number): Future<R> {
    return new FutureJob(executorId, jobId, undefined, { submitted: Date.now(), attempt: 1 }, callId).handle<R>(callId);
  }

  /** A new handle on call `callId` (equal in all but identity to any other handle on it). */
  handle<R>(callId: number): Future<R> {
    return new Future<R>(this, callId);
  }

  status(callId: number): FutureStatus {
    return NAMES[this.codes[callId - this.offset] as number] as FutureStatus;
  }

  isDone(callId: number): boolean {
    return (this.codes[callId - this.offset] as number) >= SUCCESS;
  }

  isError(callId: number): boolean {
    return this.codes[callId - this.offset] === ERROR;
  }

  /** The call's value as held (a LazyResult until fetched), or undefined. */
  valueOf(callId: number): unknown {
    return this.values[callId - this.offset];
  }

  setValue(callId: number, value: unknown): void {
    this.values[callId - this.offset] = value;
  }

  extra(callId: number): CallExtra | undefined {
    return this.extras?.get(callId - this.offset);
  }

  /** The call's extra state, made on first use. */
  more(callId: number): CallExtra {
    const row = callId - this.offset;
    this.extras ??= new Map();
    let x = this.extras.get(row);
    if (!x) this.extras.set(row, (x = {}));
    return x;
  }

  /** Marks a call invoked or running, unless it is done. */
  setStatus(callId: number, status: 'invoked' | 'running'): void {
    const row = callId - this.offset;
    if ((this.codes[row] as number) < SUCCESS) this.codes[row] = CODES[status];
  }

  /** Every call not done is invoked (the first submission of a job made by `map`). */
  setAllInvoked(): void {
    const c = this.codes;
    for (let i = 0; i < c.length; i++) if ((c[i] as number) < SUCCESS) c[i] = INVOKED;
  }

  /** An attempt failed and will be retried. */
  retry(callId: number, error: BurstError): void {
    const x = this.more(callId);
    (x.attempts ??= []).push(error);
    this.codes[callId - this.offset] = INVOKED;
  }

  /** Settles a call with `value`, unless it is done. */
  resolve(callId: number, value: unknown, logs?: string): void {
    const row = callId - this.offset;
    if ((this.codes[row] as number) >= SUCCESS) return;
    this.values[row] = value;
    if (logs) this.more(callId).logs = logs;
    this.codes[row] = SUCCESS;
    this.setStat(callId, 'resultReceived', Date.now());
    this.wake(callId, false);
  }

  /** Fails a call with `error`, unless it is done. */
  reject(callId: number, error: BurstError, logs?: string): void {
    const row = callId - this.offset;
    if ((this.codes[row] as number) >= SUCCESS) return;
    const x = this.more(callId);
    x.error = error;
    if (logs) x.logs = logs;
    this.codes[row] = ERROR;
    this.setStat(callId, 'resultReceived', Date.now());
    this.wake(callId, !(error instanceof CancelledError));
  }

  /**
   * A plain success over IPC (see FRAME_RESULT_OK): the worker's few stats and the value, received
   * (and its status stored) at `now`, without a record object or a future.
   */
  plainSuccess(
    callId: number,
    value: unknown,
    worker: WorkerIdentity,
    fnStart: number,
    fnEnd: number,
    bytesOut: number,
    now: number,
  ): void {
    const row = callId - this.offset;
    if ((this.codes[row] as number) >= SUCCESS) return;
    const cols = this.cols;
    if (cols) cols.setPlain(callId, worker, fnStart, fnEnd, bytesOut, now);
    else {
      this.workerStats(callId, { ...worker, fnStart, fnEnd, cold: false, bytesIn: 0, bytesOut }, now);
      this.setStat(callId, 'resultReceived', now);
    }
    this.values[row] = value;
    this.codes[row] = SUCCESS;
    this.wake(callId, false);
  }

  /** Whether `getResult` returned future `callId`. */
  isRead(callId: number): boolean {
    const r = this.reads;
    return typeof r === 'boolean' ? r : r[callId - this.offset] === 1;
  }

  markRead(callId: number, read: boolean): void {
    if (!this.cols) {
      this.reads = read;
      return;
    }
    if (typeof this.reads === 'boolean') {
      if (this.reads === read) return;
      this.reads = new Uint8Array(this.size).fill(this.reads ? 1 : 0);
    }
    this.reads[callId - this.offset] = read ? 1 : 0;
  }

  /** Marks every call read. */
  markAllRead(): void {
    this.reads = true;
  }

  /** True once every call was marked read at once. */
  get allRead(): boolean {
    return this.reads === true;
  }

  /** What the worker measured for a call, and when its status was written. */
  workerStats(callId: number, s: WorkerCallStats, stored: number | undefined): void {
    if (this.cols) return this.cols.setWorkerStats(callId, s, stored);
    const fs = this.own as CallStats;
    fs.workerStart = s.workerStart;
    fs.fnStart = s.fnStart;
    fs.fnEnd = s.fnEnd;
    fs.cold = s.cold;
    fs.bytesIn = s.bytesIn;
    fs.bytesOut = s.bytesOut;
    fs.hostname = s.hostname;
    fs.pid = s.pid;
    if (s.threadId !== undefined) fs.threadId = s.threadId;
    if (stored !== undefined) fs.stored = stored;
    if (s.location) fs.location = s.location;
  }

  /** Sets one field of a call's stats. */
  setStat<K extends keyof CallStats>(callId: number, key: K, value: CallStats[K]): void {
    if (this.own) this.own[key] = value;
    else (this.cols as StatsColumns).set(callId, key, value);
  }

  /** One field of a call's stats, without making the whole object. */
  statOf<K extends keyof CallStats>(callId: number, key: K): CallStats[K] {
    return this.own ? this.own[key] : (this.cols as StatsColumns).get(callId, key);
  }

  private wake(callId: number, failed: boolean): void {
    this.onDone?.(); // once per call: a done call never wakes again
    this.control?.settled(failed);
    const x = this.extras?.get(callId - this.offset);
    const waiters = x?.waiters;
    if (!waiters) return;
    (x as CallExtra).waiters = undefined;
    for (const w of waiters) w();
  }
}

/**
 * @internal: the stats columns `futures` are the rows of, in order, when they are exactly one job's (as `map`
 * makes them): their shared times are then read and written once, not once per future.
 */
export function jobColumns(futures: readonly Future<unknown>[]): StatsColumns | undefined {
  const lazy = listJob(futures);
  if (lazy) return lazy.cols;
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
  const lazy = listJob(futures);
  if (lazy) lazy.setAllInvoked();
  else for (const f of futures) f._setStatus('invoked');
}

/** Where a FutureList whose futures are not made yet keeps its job (./future-list.ts). */
export const LIST_JOB = Symbol('burst.listJob');

/**
 * @internal: the job of a list of one job's futures, in order, whose future objects are not made yet
 * (a map's FutureList until its elements are first read); undefined for any other list.
 */
export function listJob(futures: readonly unknown[]): FutureJob | undefined {
  return (futures as { [LIST_JOB]?: FutureJob })[LIST_JOB];
}

/** @internal: future `i` of a list, as a fresh handle when the list's futures are not made yet. */
export function futureAt<R>(futures: readonly Future<R>[], i: number): Future<R> | undefined {
  const job = listJob(futures);
  if (job) return i >= 0 && i < job.size ? job.handle<R>(i) : undefined;
  return futures[i];
}

/** @internal: how many of the futures are done, without making a list's futures. */
export function countDone(futures: readonly Future<unknown>[]): number {
  const job = listJob(futures);
  let n = 0;
  if (job) {
    for (let i = 0; i < job.size; i++) if (job.isDone(i)) n++;
  } else for (const f of futures) if (f.done) n++;
  return n;
}
