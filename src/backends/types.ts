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
import type { PoolCancel, PoolTask } from '../worker/pool-types.js';

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

/** What every backend factory receives besides its own options. */
export interface BackendContext {
  /** Worker processes per host (localhost: the pool size). */
  workers: number;
  /** Memory per worker in MB, when set. */
  runtimeMemoryMB?: number;
  /** The executor's storage, as workers re-create it. */
  storage: StorageConfig;
  /** Whether workers on other hosts can reach that storage. */
  storageIsRemote: boolean;
  bucket: string;
  /** The key jobs are signed with (`signingKey` / $BURST_SIGNING_KEY), when there is one. */
  signingKey?: string;
}

/** A backend factory: `(options, context) => backend`. */
export type BackendFactory = (
  options: Record<string, unknown>,
  context: BackendContext,
) => ComputeBackend | Promise<ComputeBackend>;

/** A compute backend: starts workers for calls of a job. */
export interface ComputeBackend {
  /** The registered name, e.g. `'localhost'`, `'slurm'`. */
  readonly name: string;
  /**
   * Starts workers for the given calls of `job` (job data is already in storage); `attempt` is 1 for a
   * first run and counts retries. Resolves once submitted.
   */
  invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void>;
  /**
   * Among `callIds` (calls with no status yet), those the backend knows have ended, with why.
   * The monitor asks this periodically so a silently killed worker becomes a failed call, never a hang.
   */
  lostCalls?(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>>;
  /** Stops the job's workers (e.g. `scancel`). */
  cancel(job: JobDescriptor): Promise<void>;
  /**
   * Stops only the copies of these calls that run as `attempt` (the loser of a speculative backup),
   * leaving the job's other calls alone. Without it the loser runs to its end and its result is ignored.
   */
  cancelCalls?(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void>;
  /** Releases the backend's processes, sockets and timers. */
  close(): Promise<void>;
  /** A faster channel that runs calls without going through storage (localhost). */
  readonly direct?: DirectRunner;
  /** Starts workers before the first call is handed over (localhost: while the function is packaged). */
  warm?(): void;
  /** Counters the backend keeps, for tests and stats (localhost: processes spawned, crashed, timed out). */
  readonly counters?: Readonly<Record<string, number>> | undefined;
}

/** Runs calls directly in local worker processes and reports each record (the localhost IPC channel). */
export interface DirectRunner {
  /**
   * Queues calls; returns a function that cancels some or all of them (see {@link PoolCancel}).
   * `runtimeMemoryMB` runs them in worker processes with that heap limit (a map's own memory, or an
   * out-of-memory retry's).
   */
  submit(task: PoolTask, options?: { runtimeMemoryMB?: number }): PoolCancel;
}
