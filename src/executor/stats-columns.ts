/**
 * The stats of a job's futures, one typed array per field instead of an object per call: a map of
 * 10^6 calls keeps ~55 bytes per call here where objects took ~260 (the object, its property store
 * and a boxed number per time), and the garbage collector has 10^6 fewer objects to trace.
 * Zero means "not set" in every column, so a column costs memory only where it is written (fresh
 * pages are zero). A future reads its row as a plain {@link CallStats} object (./future.ts).
 */
import type { CallLocation, WorkerCallStats, WorkerIdentity } from '../worker/protocol.js';
import type { CallStats } from './future.js';
import { WorkerIndex } from '../job/worker-index.js';

/** Per-call times and sizes; 0 is "not set" (no epoch time is 0; a size of 0 is told apart by `cold`). */
const TIMES = ['fnStart', 'fnEnd', 'resultReceived', 'stored'] as const;
const SIZES = ['bytesIn', 'bytesOut'] as const;
type TimeField = (typeof TIMES)[number];
type SizeField = (typeof SIZES)[number];

/** What is rare or not a number: kept per row only when set. */
interface Extra {
  location?: CallLocation;
  cached?: boolean;
  backup?: 'won' | 'lost';
}

/** A time most rows share (submitted, invoked): one number, and a row only where it differs. */
class SharedTime {
  private all: number | undefined;
  private readonly rows = new Map<number, number | undefined>();

  get(i: number): number | undefined {
    return this.rows.has(i) ? this.rows.get(i) : this.all;
  }

  set(i: number, v: number | undefined): void {
    if (v === this.all) this.rows.delete(i);
    else this.rows.set(i, v);
  }

  /** The earliest time any row has, or undefined when none has one. */
  earliest(): number | undefined {
    let min = this.all;
    for (const v of this.rows.values()) if (v !== undefined && (min === undefined || v < min)) min = v;
    return min;
  }

  /** Sets every row. */
  setAll(v: number | undefined): void {
    this.all = v;
    this.rows.clear();
  }
}

/** A `cold` code: warm, no bytes in or out, `stored` is `resultReceived` (see {@link StatsColumns.setPlain}). */
const PLAIN = 3;

/** The columns of one job's stats; row i is call i. */
export class StatsColumns {
  readonly submitted = new SharedTime();
  readonly invoked = new SharedTime();
  /** The attempt minus one. */
  private readonly attempt: Uint16Array;
  /**
   * 0 unknown, 1 warm, 2 cold: known once a worker reported the call. {@link PLAIN}: warm, nothing
   * read or written, stored when received (a plain success over IPC): its `stored`, `bytesIn` and
   * `bytesOut` columns are not written, and what they hold is not read.
   */
  private readonly cold: Uint8Array;
  /** 1 + the worker's number in {@link workers}, 0 when unknown. */
  private readonly worker: Uint32Array;
  private readonly times: Record<TimeField | SizeField, Float64Array>;
  private readonly workers = new WorkerIndex();
  private readonly extras = new Map<number, Extra>();
  /** Attempts above what the 16-bit column holds (a call retried 65,536 times). */
  private readonly bigAttempts = new Map<number, number>();

  constructor(
    /** The number of rows. */
    readonly size: number,
    submitted: number,
  ) {
    const n = size;
    this.submitted.setAll(submitted);
    this.attempt = new Uint16Array(n);
    this.cold = new Uint8Array(n);
    this.worker = new Uint32Array(n);
    const times = {} as Record<TimeField | SizeField, Float64Array>;
    for (const k of [...TIMES, ...SIZES]) times[k] = new Float64Array(n);
    this.times = times;
  }

  /** Row i as a plain object: the fields that are set, as a CallStats object always had them. */
  read(i: number): CallStats {
    const out: CallStats = { submitted: this.submitted.get(i) as number, attempt: this.attemptOf(i) };
    const invoked = this.invoked.get(i);
    if (invoked !== undefined) out.invoked = invoked;
    const w = this.workers.list[(this.worker[i] as number) - 1];
    if (w) out.workerStart = w.workerStart;
    const cold = this.cold[i] as number;
    for (const k of TIMES) {
      const v = ((k === 'stored' && cold === PLAIN ? this.times.resultReceived : this.times[k]) as Float64Array)[
        i
      ] as number;
      if (v !== 0) out[k] = v;
    }
    if (cold !== 0) out.cold = cold === 2;
    for (const k of SIZES) {
      const v = cold === PLAIN ? 0 : ((this.times[k] as Float64Array)[i] as number);
      if (v !== 0 || cold !== 0) out[k] = v;
    }
    if (w) {
      out.hostname = w.hostname;
      out.pid = w.pid;
      if (w.threadId !== undefined) out.threadId = w.threadId;
    }
    const extra = this.extras.get(i);
    if (extra) Object.assign(out, extra);
    return out;
  }

  /** One field of row i. */
  get<K extends keyof CallStats>(i: number, key: K): CallStats[K] {
    if (key === 'submitted') return this.submitted.get(i) as CallStats[K];
    if (key === 'invoked') return this.invoked.get(i) as CallStats[K];
    if (key === 'attempt') return this.attemptOf(i) as CallStats[K];
    return this.read(i)[key];
  }

  /** Sets one field of row i; `undefined` clears it. */
  set<K extends keyof CallStats>(i: number, key: K, value: CallStats[K]): void {
    if (key === 'cold' || key === 'stored' || key === 'resultReceived' || key === 'bytesIn' || key === 'bytesOut')
      this.unshare(i);
    switch (key) {
      case 'submitted':
        return this.submitted.set(i, value as number | undefined);
      case 'invoked':
        return this.invoked.set(i, value as number | undefined);
      case 'attempt':
        return this.setAttempt(i, (value as number | undefined) ?? 1);
      case 'cold':
        this.cold[i] = value === undefined ? 0 : value ? 2 : 1;
        return;
      case 'fnStart':
      case 'fnEnd':
      case 'resultReceived':
      case 'stored':
      case 'bytesIn':
      case 'bytesOut':
        (this.times[key as TimeField | SizeField] as Float64Array)[i] = (value as number | undefined) ?? 0;
        return;
      case 'hostname':
      case 'pid':
      case 'threadId':
      case 'workerStart': {
        const s = this.read(i);
        this.setWorker(i, { ...s, [key]: value } as WorkerCallStats);
        return;
      }
      default: {
        const extra = this.extras.get(i) ?? {};
        if (value === undefined) delete extra[key as keyof Extra];
        else (extra as Record<string, unknown>)[key] = value;
        this.extras.set(i, extra);
      }
    }
  }

  /** Row i takes what a worker measured for the call (a settled record's stats). */
  setWorkerStats(i: number, s: WorkerCallStats, stored: number | undefined): void {
    this.unshare(i);
    const t = this.times;
    (t.fnStart as Float64Array)[i] = s.fnStart;
    (t.fnEnd as Float64Array)[i] = s.fnEnd;
    (t.bytesIn as Float64Array)[i] = s.bytesIn;
    (t.bytesOut as Float64Array)[i] = s.bytesOut;
    if (stored !== undefined) (t.stored as Float64Array)[i] = stored;
    this.cold[i] = s.cold ? 2 : 1;
    this.setWorker(i, s);
    if (s.location) this.set(i, 'location', s.location);
  }

  /** Row i takes a plain success's stats (warm, nothing read: see FRAME_RESULT_OK), and when it was received. */
  setPlain(
    i: number,
    worker: WorkerIdentity,
    fnStart: number,
    fnEnd: number,
    bytesOut: number,
    received: number,
  ): void {
    const t = this.times;
    (t.fnStart as Float64Array)[i] = fnStart;
    (t.fnEnd as Float64Array)[i] = fnEnd;
    (t.resultReceived as Float64Array)[i] = received;
    if (bytesOut === 0) {
      // Three columns fewer to write: each fresh page of a column costs a page fault (~12 µs on a VM),
      // 1,200 of them for 10^5 calls.
      this.cold[i] = PLAIN;
    } else {
      (t.bytesIn as Float64Array)[i] = 0;
      (t.bytesOut as Float64Array)[i] = bytesOut;
      (t.stored as Float64Array)[i] = received;
      this.cold[i] = 1;
    }
    this.setWorker(i, worker);
  }

  /** A {@link PLAIN} row's implied columns are written out, before something sets one of them or `cold`. */
  private unshare(i: number): void {
    if (this.cold[i] !== PLAIN) return;
    const t = this.times;
    (t.stored as Float64Array)[i] = (t.resultReceived as Float64Array)[i] as number;
    (t.bytesIn as Float64Array)[i] = 0;
    (t.bytesOut as Float64Array)[i] = 0;
    this.cold[i] = 1;
  }

  private attemptOf(i: number): number {
    return this.bigAttempts.get(i) ?? (this.attempt[i] as number) + 1;
  }

  private setAttempt(i: number, attempt: number): void {
    if (attempt - 1 <= 0xffff) {
      this.attempt[i] = attempt - 1;
      this.bigAttempts.delete(i);
    } else this.bigAttempts.set(i, attempt);
  }

  private setWorker(
    i: number,
    s: Partial<Pick<WorkerCallStats, 'hostname' | 'pid' | 'threadId' | 'workerStart'>>,
  ): void {
    if (s.hostname === undefined && s.pid === undefined && s.workerStart === undefined) {
      this.worker[i] = 0;
      return;
    }
    this.worker[i] = this.workers.indexOf(s) + 1;
  }
}
