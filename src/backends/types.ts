/**
 * The compute backend contract. A backend only starts workers: storage is the contract between the
 * client and the workers (see DESIGN.md). Each worker is handed the storage configuration, a job key
 * and call ids, and runs `burst worker run` (or an equivalent entry) which reads the job from storage
 * and writes each call's status and output back.
 *
 * What this contract leaves out: scheduling across backends, autoscaling, and any result channel other
 * than storage (the localhost backend adds a direct IPC channel through {@link DirectRunner}).
 */
import type { StorageConfig } from '../storage/types.js';

/** Everything a backend needs to start workers for one job already written to storage. */
export interface JobDescriptor {
  executorId: string;
  jobId: string;
  /** Bucket of Burst's own data. */
  bucket: string;
  /** Key prefix of the job in storage: `burst/jobs/<executorId>/<jobId>`. */
  jobKey: string;
  /** How workers re-create the storage driver. Contains credentials: never print it. */
  storage: StorageConfig;
  /** Number of calls in the job; call ids are `0` … `callCount - 1` in decimal. */
  callCount: number;
  /** Calls each worker invocation runs, in order. */
  chunksize: number;
  /** Per-call timeout in seconds. */
  timeoutSeconds: number;
  /** Memory per worker in MB, when set. */
  runtimeMemoryMB?: number;
  /** Environment variables for the user's function. */
  env: Record<string, string>;
}

/** What a backend knows of calls that ended without writing a status (e.g. Slurm's state and reason). */
export interface LostCallInfo {
  /** Backend-specific state, e.g. `TIMEOUT`, `OUT_OF_MEMORY`, `NODE_FAIL`, `CANCELLED`. */
  state: string;
  reason?: string;
  exitCode?: number | null;
  signal?: string | null;
}

/** A compute backend: starts workers for calls of a job. */
export interface ComputeBackend {
  /** The registered name, e.g. `'localhost'`, `'slurm'`. */
  readonly name: string;
  /** Starts workers for the given calls of `job` (job data is already in storage). Resolves once submitted. */
  invoke(job: JobDescriptor, callIds: readonly number[]): Promise<void>;
  /**
   * Among `callIds` (calls with no status yet), those the backend knows have ended, with why.
   * The monitor asks this periodically so a silently killed worker becomes a failed call, never a hang.
   */
  lostCalls?(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>>;
  /** Stops the job's workers (e.g. `scancel`). */
  cancel(job: JobDescriptor): Promise<void>;
  /** Releases the backend's processes, sockets and timers. */
  close(): Promise<void>;
  /** A faster channel that runs calls without going through storage (localhost). */
  readonly direct?: DirectRunner;
}

/** Runs calls directly and reports each one (used by the localhost backend's IPC path). */
export interface DirectRunner {
  run(request: DirectRunRequest): DirectRun;
}

/** One call to run directly: its id and its serialized input. */
export interface DirectCall {
  callId: number;
  input: Uint8Array;
}

/** A job to run through the direct channel. */
export interface DirectRunRequest {
  job: JobDescriptor;
  /** Absolute path of the function bundle on this machine, and its content hash. */
  bundlePath: string;
  bundleHash: string;
  /** Serialized extra arguments, or undefined. */
  extraArgs?: Uint8Array;
  calls: DirectCall[];
  /** Maximum number of calls sent to a worker in one message; undefined lets the backend choose. */
  chunksize?: number;
  events: DirectEvents;
}

/** Per-call events reported by a direct run. */
export interface DirectEvents {
  /** A call finished (success or error); `result` is the raw result record from the worker. */
  done(callId: number, record: import('../worker/protocol.js').CallRecord): void;
}

/** A running direct job. */
export interface DirectRun {
  /** Stops the job's remaining calls. */
  cancel(): void;
}
