/**
 * The process pool's options, its task contract, its bookkeeping of batches and processes (./pool.ts),
 * and the records the pool makes itself for calls that crashed or timed out.
 */
import type { CallRecord, PoolCall, PoolJob, SerializedError, WorkerIdentity } from './protocol.js';
import type { StorageConfig } from '../storage/types.js';
import type { FrameReader } from './frames.js';
import type { Tail } from './tail.js';
import type { Isolation, WorkerHandle } from './worker-handle.js';
import type { CallList, CallQueue } from './call-queue.js';

/** Options of {@link ProcessPool}. */
export interface PoolOptions {
  /** Number of worker processes. */
  size: number;
  /**
   * Workers are child processes, or threads of this process (cheaper to start; see the README for
   * what each isolates). @default 'process'
   */
  isolation?: Isolation;
  /** Heap limit of each worker in MB (`--max-old-space-size`, or a thread's `resourceLimits`). */
  runtimeMemoryMB?: number;
  /** Storage the workers' `ctx.storage` uses. */
  storage?: StorageConfig;
  bucket?: string;
  /** Environment of the worker processes. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Seconds a timed-out or cancelled call gets to react to its abort signal before its process is killed. @default 1 */
  killGraceSeconds?: number;
  /**
   * Batches a process holds at once: the one it runs and those queued behind it. 1 leaves nothing
   * queued in a process, so {@link ProcessPool.abort} can keep every call not yet started from starting.
   * @default 2
   */
  pipeline?: number;
}

/** A set of calls submitted to the pool, with where each record goes. */
export interface PoolTask {
  job: PoolJob;
  /** The calls, or a list that makes each when it is handed out (./call-queue.ts). */
  calls: readonly PoolCall[] | CallList;
  /** Calls per message to a worker; undefined chooses by guided self-scheduling. */
  chunksize?: number;
  onRecord(record: CallRecord): void;
  /**
   * A plain success (see FRAME_RESULT_OK in ./frames.ts) without a record object: what a large map's
   * calls mostly are. Without it, the pool makes the record and calls `onRecord`.
   */
  onPlain?: PlainSink;
  /**
   * Starts the client's primitives server, which an IPC job's endpoint names before it listens: a
   * worker asks for it when a task first uses `ctx.primitives` (../primitives/host.ts).
   */
  primitives?: () => Promise<void>;
}

/** Receives a plain success as arguments: the fields of its record, its worker and when it was read. */
export type PlainSink = (
  callId: number,
  attempt: number,
  fnStart: number,
  fnEnd: number,
  bytesOut: number,
  value: unknown,
  worker: WorkerIdentity,
  receivedAt: number,
) => void;

/**
 * Cancels calls of a submitted task: those given (all of them without `callIds`). A cancelled call
 * not started never starts; a running one gets its abort signal with `reason`, and its process is
 * killed and replaced if it has not returned after the kill grace. Cancelled calls get no record.
 */
export type PoolCancel = (callIds?: readonly number[], reason?: string) => void;

export interface QueuedTask {
  task: PoolTask;
  /** Calls not handed out yet. */
  pending: CallQueue;
  cancelled: boolean;
  cancelledCalls: Set<number>;
  /** Run time of the calls that finished so far: sizes batches and tells a long call. */
  runMs: number;
  runs: number;
}

export interface Batch {
  id: number;
  q: QueuedTask;
  calls: PoolCall[];
  done: boolean[];
  /** Calls not done in `calls[0..end)`. */
  left: number;
  /** Records come back in call order: where the next one is expected. */
  cursor: number;
  /** Calls before `started` have started in the process. */
  started: number;
  /** Calls from `end` on were given back unstarted. */
  end: number;
}

export interface Slot {
  child: WorkerHandle;
  inflight: Batch[];
  current?: { batch: Batch; index: number; startedAt: number };
  frames: FrameReader;
  /** Calls already settled for the pool (timed out, cancelled) whose process is being stopped. */
  stopping: Set<PoolCall>;
  killAt?: number;
  everStarted: boolean;
  stderr: Tail;
  /** A `release` was sent and its answer has not come back. */
  releasing: boolean;
  /** A frame from it could not be decoded: it is being stopped, and nothing more it wrote is read. */
  undecodable?: boolean;
  /** Its running call runs long: it gets nothing more until that call returns. */
  slow: boolean;
  /** The job of the last batch sent: the next batch of the same job names it by id only. */
  lastJob?: PoolJob;
  /** What every record of this worker shares, from its first (whole) record: plain results (frames.ts) leave it out. */
  identity?: WorkerIdentity;
}

/** The error of the call that was running when its process died. */
export function crashError(
  call: PoolCall,
  job: PoolJob,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  isolation: Isolation = 'process',
): SerializedError {
  const where = `call ${call.callId} of job ${job.jobId}`;
  if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr)) {
    return {
      kind: 'oom',
      name: 'OutOfMemoryError',
      message: `${where} ran out of memory (the worker's heap limit was reached)`,
      exitCode: code,
      signal,
    };
  }
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const detail = stderr.trim() ? `; its stderr ended with:\n${stderr.trim().split('\n').slice(-5).join('\n')}` : '';
  return {
    kind: 'crash',
    name: 'WorkerCrashError',
    message: `the worker ${isolation} running ${where} ${how}${detail}`,
    exitCode: code,
    signal,
  };
}

/** Gives the task the failed record of a call that crashed or timed out, unless the call was cancelled. */
export function reportFailure(batch: Batch, call: PoolCall, error: SerializedError, fnStart: number): void {
  if (batch.q.cancelled || batch.q.cancelledCalls.has(call.callId)) return;
  const stats = {
    workerStart: fnStart,
    fnStart,
    fnEnd: Date.now(),
    cold: false,
    bytesIn: 0,
    bytesOut: 0,
    hostname: '',
    pid: 0,
  };
  batch.q.task.onRecord({ callId: call.callId, ok: false, error, attempt: call.attempt, stats });
}
