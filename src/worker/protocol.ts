/**
 * What a worker reports for each call, on every channel (IPC for localhost, the status object in
 * storage for remote backends). Kept free of client-side imports: the worker bundle loads it.
 */

/** An error as it crosses the process boundary. */
export interface SerializedError {
  /** Which Burst error class the client should build. */
  kind: 'remote' | 'serialization' | 'timeout' | 'crash' | 'oom' | 'integrity' | 'packaging' | 'storage' | 'cancelled';
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable properties of the thrown error (JSON-safe subset). */
  properties?: Record<string, unknown>;
  /** A thrown non-Error value, JSON-encoded when possible (`throw 42`). */
  thrown?: string;
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
}

/** The outcome of one call. */
export interface CallRecord {
  callId: number;
  ok: boolean;
  /** The serialized result (v8 format), when `ok` and carried inline. */
  output?: Uint8Array;
  /** True when the result is stored as a separate `output` object (large results). */
  outputStored?: boolean;
  error?: SerializedError;
  stats: WorkerCallStats;
  /** The call's captured console output (the last part when long). */
  logs?: string;
  attempt: number;
}
