/**
 * What a worker reports for each call, on every channel (IPC for localhost, the status object in
 * storage for remote backends). Kept free of client-side imports: the worker bundle loads it.
 */

/** An error as it crosses the process boundary. */
export interface SerializedError {
  /** Which Burst error class the client should build. */
  kind:
    | 'remote'
    | 'serialization'
    | 'timeout'
    | 'crash'
    | 'oom'
    | 'integrity'
    | 'packaging'
    | 'storage'
    | 'cancelled'
    | 'upstream';
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable properties of the thrown error (JSON-safe subset). */
  properties?: Record<string, unknown>;
  /** A thrown non-Error value, JSON-encoded when possible (`throw 42`). */
  thrown?: string;
  /** The thrown non-Error value itself (base64 V8 structured clone), absent for symbols and unclonable values. */
  thrownValue?: string;
  /** Where in a value a serialization failure happened (`result.handler`). */
  path?: string;
  exitCode?: number | null;
  signal?: string | null;
}

/** Timings (epoch milliseconds) and sizes of one call, as measured by the worker. */
export interface WorkerCallStats {
  /** When the worker process that ran the call started. */
  workerStart: number;
  /** When the user's function was called. */
  fnStart: number;
  /** When it returned or threw. */
  fnEnd: number;
  /** True when this call was the first on its worker process (it paid the start-up and the import). */
  cold: boolean;
  bytesIn: number;
  bytesOut: number;
  hostname: string;
  pid: number;
  /** The worker thread that ran the call, when the worker is a thread (localhost `isolation: 'thread'`). */
  threadId?: number;
  /** Where the platform keeps the call's logs (see {@link CallLocation}), on platforms that keep them. */
  location?: CallLocation;
  /** True when the result came from the result cache (`cache: true`): the call did not run. */
  cached?: boolean;
  /** Set when a speculative backup of the call was started: which copy's result was kept. */
  backup?: 'won' | 'lost';
}

/** The stats every call has (a thread's also `threadId`): a record with only these is a plain one. */
const PLAIN_STATS = new Set([
  'workerStart',
  'fnStart',
  'fnEnd',
  'cold',
  'bytesIn',
  'bytesOut',
  'hostname',
  'pid',
  'threadId',
]);

/** True when the stats hold nothing beyond {@link PLAIN_STATS} (no location, cache or backup mark). */
export function onlyPlainStats(s: WorkerCallStats): boolean {
  for (const k in s) if (!PLAIN_STATS.has(k)) return false;
  return true;
}

/**
 * Where a platform kept a call's logs, e.g. `{ platform: 'aws_lambda', logGroup, logStream, requestId,
 * text }`; `text` is one line for people, the other fields are the platform's own.
 */
export interface CallLocation {
  platform: string;
  text: string;
  [field: string]: string;
}

/** The outcome of one call. */
export interface CallRecord {
  callId: number;
  ok: boolean;
  /** The serialized result (v8 format), when `ok` and carried inline in a status object. */
  output?: Uint8Array;
  /** The result value itself, on channels that serialize whole messages (the localhost IPC channel). */
  value?: unknown;
  /** True when the result is stored as a separate `output` object (large results). */
  outputStored?: boolean;
  error?: SerializedError;
  stats: WorkerCallStats;
  /** The call's captured console output (the last part when long). */
  logs?: string;
  attempt: number;
}

/** A job as the process pool runs it: where its function is and how to call it. */
export interface PoolJob {
  executorId: string;
  jobId: string;
  /** Absolute path of the function bundle on this host. */
  bundlePath: string;
  /**
   * The bundle's code as the client packaged it (small bundles): the worker imports the file only if
   * it holds exactly this, which spares it hashing the file (and loading node:crypto) to check it.
   */
  bundleCode?: string;
  /** The `extraArgs` value, handed to the function as `ctx.args`. */
  args?: unknown;
  env: Record<string, string>;
  timeoutMs: number;
}

/** One call as the pool runs it. */
export interface PoolCall {
  callId: number;
  attempt: number;
  input: unknown;
}

/** Messages from the pool to a child process. */
export type ToChild =
  | { t: 'init'; storage?: import('../storage/types.js').StorageConfig; bucket?: string }
  /**
   * Run these calls (call i: `callIds[i]`, `inputs[i]`, its attempt or the one all share). `job` is
   * the job's id when the batch before was of the same job.
   */
  | {
      t: 'run';
      batch: number;
      job: PoolJob | string;
      callIds: number[] | Uint32Array;
      attempts: number | number[];
      inputs: unknown[] | Float64Array;
    }
  | { t: 'abort'; callId: number; jobId: string; reason: string }
  /** Abort these calls (all of the job's with `null`) if running; never start them otherwise. */
  | { t: 'cancel'; jobId: string; callIds: number[] | null; reason: string }
  /** Give back every call not started yet (answered with a RELEASED frame, see ./frames.ts). */
  | { t: 'release' }
  /** The answer to a worker's `primitives`: the client's server listens (or, with `error`, could not start). */
  | { t: 'primitives'; error?: string };

/** Messages from a worker to the pool besides its frames (./frames.ts): results when it has no side pipe, a thread's stderr. */
export type FromChild =
  | { t: 'results'; batch: number; records: CallRecord[] }
  /** A worker thread's stderr between calls (a process's goes to its stderr pipe). */
  | { t: 'stderr'; text: string }
  /** A task first uses `ctx.primitives`: start the client's server if it is not listening yet. */
  | { t: 'primitives' };

/** What every record of one worker shares (host, pid, thread, start). */
export type WorkerIdentity = Pick<WorkerCallStats, 'workerStart' | 'hostname' | 'pid' | 'threadId'>;

/** The record of a plain success, for whoever needs one whole. */
export function plainCallRecord(
  worker: WorkerIdentity | undefined,
  callId: number,
  attempt: number,
  fnStart: number,
  fnEnd: number,
  bytesOut: number,
  value: unknown,
): CallRecord {
  const stats: CallRecord['stats'] = {
    workerStart: worker?.workerStart ?? 0,
    fnStart,
    fnEnd,
    cold: false,
    bytesIn: 0,
    bytesOut,
    hostname: worker?.hostname ?? '',
    pid: worker?.pid ?? 0,
  };
  if (worker?.threadId !== undefined) stats.threadId = worker.threadId;
  return { callId, ok: true, value, attempt, stats };
}
