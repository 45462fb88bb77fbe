/**
 * The stats of a job's futures, one typed array per field instead of an object per call: a map of
 * 10^6 calls keeps ~90 bytes per call here where objects took ~260 (the object, its property store
 * and a boxed number per time), and the garbage collector has 10^6 fewer objects to trace.
 * A future reads its row as a plain {@link CallStats} object (./future.ts).
 */
import type { CallLocation, WorkerCallStats } from '../worker/protocol.js';
import type { CallStats } from './future.js';

/** The fields kept as numbers, NaN when unset. */
const TIMES = ['invoked', 'workerStart', 'fnStart', 'fnEnd', 'resultReceived', 'stored', 'bytesIn', 'bytesOut'] as const;
type TimeField = (typeof TIMES)[number];

/** What is rare or not a number: kept per row only when set. */
interface Extra {
  location?: CallLocation;
  cached?: boolean;
  backup?: 'won' | 'lost';
}

/** The columns of one job's stats; row i is call i. */
export class StatsColumns {
  readonly submitted: Float64Array;
  readonly attempt: Uint32Array;
  /** 1 cold, 0 warm, -1 unknown. */
  readonly cold: Int8Array;
  /** Index into {@link workers}, -1 when unknown. */
  readonly worker: Int32Array;
  readonly times: Record<TimeField, Float64Array>;
  /** Each worker (host, pid, thread) once. */
  private readonly workers: Array<{ hostname: string; pid: number; threadId: number | undefined }> = [];
  private readonly workerIndex = new Map<string, number>();
  private readonly extras = new Map<number, Extra>();

  constructor(n: number, submitted: number) {
    this.submitted = new Float64Array(n).fill(submitted);
    this.attempt = new Uint32Array(n).fill(1);
    this.cold = new Int8Array(n).fill(-1);
    this.worker = new Int32Array(n).fill(-1);
    const times = {} as Record<TimeField, Float64Array>;
    for (const k of TIMES) times[k] = new Float64Array(n).fill(Number.NaN);
    this.times = times;
  }

  /** Row i as a plain object: the fields that are set, as a CallStats object always had them. */
  read(i: number): CallStats {
    const out: CallStats = { submitted: this.submitted[i] as number, attempt: this.attempt[i] as number };
    for (const k of TIMES) {
      const v = (this.times[k] as Float64Array)[i] as number;
      if (!Number.isNaN(v)) out[k] = v;
    }
    const cold = this.cold[i] as number;
    if (cold >= 0) out.cold = cold === 1;
    const w = this.workers[this.worker[i] as number];
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
    if (key === 'submitted') return this.submitted[i] as CallStats[K];
    if (key === 'attempt') return this.attempt[i] as CallStats[K];
    if ((TIMES as readonly string[]).includes(key)) {
      const v = (this.times[key as TimeField] as Float64Array)[i] as number;
      return (Number.isNaN(v) ? undefined : v) as CallStats[K];
    }
    return this.read(i)[key];
  }

  /** Sets one field of row i; `undefined` clears it. */
  set<K extends keyof CallStats>(i: number, key: K, value: CallStats[K]): void {
    if (key === 'submitted') this.submitted[i] = value as number;
    else if (key === 'attempt') this.attempt[i] = value as number;
    else if (key === 'cold') this.cold[i] = value === undefined ? -1 : value ? 1 : 0;
    else if ((TIMES as readonly string[]).includes(key))
      (this.times[key as TimeField] as Float64Array)[i] = value === undefined ? Number.NaN : (value as number);
    else if (key === 'hostname' || key === 'pid' || key === 'threadId') {
      const s = this.read(i);
      this.setWorker(i, { ...s, [key]: value } as WorkerCallStats);
    } else {
      const extra = this.extras.get(i) ?? {};
      if (value === undefined) delete extra[key as keyof Extra];
      else (extra as Record<string, unknown>)[key] = value;
      this.extras.set(i, extra);
    }
  }

  /** Row i takes what a worker measured for the call (a settled record's stats). */
  setWorkerStats(i: number, s: WorkerCallStats, stored: number | undefined): void {
    const t = this.times;
    (t.workerStart as Float64Array)[i] = s.workerStart;
    (t.fnStart as Float64Array)[i] = s.fnStart;
    (t.fnEnd as Float64Array)[i] = s.fnEnd;
    (t.bytesIn as Float64Array)[i] = s.bytesIn;
    (t.bytesOut as Float64Array)[i] = s.bytesOut;
    if (stored !== undefined) (t.stored as Float64Array)[i] = stored;
    this.cold[i] = s.cold ? 1 : 0;
    this.setWorker(i, s);
    if (s.location) this.set(i, 'location', s.location);
  }

  private setWorker(i: number, s: Pick<WorkerCallStats, 'hostname' | 'pid' | 'threadId'>): void {
    if (s.hostname === undefined && s.pid === undefined) {
      this.worker[i] = -1;
      return;
    }
    const key = `${s.hostname}\0${s.pid}\0${s.threadId ?? ''}`;
    let w = this.workerIndex.get(key);
    if (w === undefined) {
      w = this.workers.length;
      this.workers.push({ hostname: s.hostname, pid: s.pid, threadId: s.threadId });
      this.workerIndex.set(key, w);
    }
    this.worker[i] = w;
  }
}
