/**
 * The localhost backend (the zero-config default): a pool of workers on this machine (worker threads,
 * or child processes with `isolation: 'process'`), started on first use and reused across jobs. By default calls travel over IPC (the direct channel); with
 * `channel: 'storage'` each invocation is a `burst worker run` process that reads the job from storage
 * and writes results back, exactly as on a cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BurstError, CancelledError, ConfigError } from '../../errors.js';
import { storageCapabilitiesOf } from '../../storage/registry.js';
import { ProcessPool } from '../../worker/pool.js';
import type { Isolation } from '../../worker/worker-handle.js';
import type { BackendContext, ComputeBackend, DirectRunner, JobDescriptor, LostCallInfo } from '../types.js';
import { chunkCalls, formatCallSpec } from '../../worker/call-spec.js';
import { Tail } from '../../worker/tail.js';
import type { LocalhostOptions } from './options.js';

const cli = (() => {
  const ts = import.meta.url.endsWith('.ts');
  return { path: fileURLToPath(new URL(ts ? '../../cli/main.ts' : '../../cli/main.js', import.meta.url)), ts };
})();

/** Creates the localhost backend (options already checked against its schema). */
export function localhost(options: LocalhostOptions, context: BackendContext): ComputeBackend {
  const channel = options.channel ?? 'ipc';
  return channel === 'ipc' ? new IpcLocalhost(context, options.isolation ?? 'thread') : new StorageLocalhost(context);
}

class IpcLocalhost implements ComputeBackend {
  readonly name = 'localhost';
  readonly direct: DirectRunner;
  private pool: ProcessPool | undefined;
  /** Pools of other heap sizes (a map's own runtimeMemory, out-of-memory retries), by MB. */
  private readonly sized = new Map<number, ProcessPool>();
  private closed = false;

  constructor(
    private readonly context: BackendContext,
    private readonly isolation: Isolation,
  ) {
    this.direct = { submit: (task, options) => this.poolFor(task.job.jobId, options?.runtimeMemoryMB).submit(task) };
  }

  private poolFor(jobId: string, memoryMB: number | undefined): ProcessPool {
    if (!memoryMB || memoryMB === this.context.runtimeMemoryMB) return this.getPool(jobId);
    if (this.closed)
      throw new CancelledError(`the executor was closed before job ${jobId} started`, { jobId, backend: 'localhost' });
    let pool = this.sized.get(memoryMB);
    if (!pool)
      this.sized.set(
        memoryMB,
        (pool = new ProcessPool({
          isolation: this.isolation,
          size: this.context.workers,
          storage: this.context.storage,
          bucket: this.context.bucket,
          runtimeMemoryMB: memoryMB,
        })),
      );
    return pool;
  }

  private getPool(jobId: string): ProcessPool {
    // A submission racing close() must not start a fresh pool that nobody will close.
    if (this.closed)
      throw new CancelledError(`the executor was closed before job ${jobId} started`, { jobId, backend: 'localhost' });
    this.pool ??= new ProcessPool({
      isolation: this.isolation,
      size: this.context.workers,
      storage: this.context.storage,
      bucket: this.context.bucket,
      ...(this.context.runtimeMemoryMB ? { runtimeMemoryMB: this.context.runtimeMemoryMB } : {}),
    });
    return this.pool;
  }

  /** Starts the worker processes ahead of the first job (while it is being packaged). */
  warm(): void {
    if (!this.closed) this.getPool('(warm-up)').warm();
  }

  /** Counters of the process pool (spawned, crashed, timed out). */
  get counters(): ProcessPool['counters'] | undefined {
    return this.pool?.counters;
  }

  async invoke(): Promise<void> {
    throw new BurstError('INTERNAL', 'the IPC localhost backend runs calls through its direct channel', {
      backend: 'localhost',
    });
  }

  async cancel(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.pool?.close(), ...[...this.sized.values()].map((p) => p.close())]);
    this.pool = undefined;
    this.sized.clear();
  }
}

interface Invocation {
  job: JobDescriptor;
  callIds: readonly number[];
  attempt: number;
}

/** Runs each chunk of calls as a `burst worker run` process, at most `workers` at a time. */
class StorageLocalhost implements ComputeBackend {
  readonly name = 'localhost';
  private readonly waiting: Invocation[] = [];
  private readonly running = new Set<ChildProcess>();
  /** What each running process runs. */
  private readonly invocations = new Map<ChildProcess, Invocation>();
  /** Calls whose process ended, with how: the monitor asks through lostCalls. */
  private readonly ended = new Map<string, LostCallInfo & { at: number }>();
  /** The latest invocation of each call, by `<jobKey>/<callId>`. */
  private readonly latest = new Map<string, Invocation>();
  private closed = false;

  constructor(private readonly context: BackendContext) {
    if (storageCapabilitiesOf(context.storage)?.processes === false) {
      throw new ConfigError(`the ${context.storage.driver} storage cannot be reached by worker processes; use "fs"`, {
        keyPath: 'storage',
        backend: 'localhost',
      });
    }
  }

  async invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    for (const ids of chunkCalls(callIds, job.chunksize)) {
      const inv: Invocation = { job, callIds: ids, attempt };
      for (const id of inv.callIds) {
        // A retry: forget how the last attempt ended, and ignore it if its process ends only now.
        this.ended.delete(`${job.jobKey}/${id}`);
        this.latest.set(`${job.jobKey}/${id}`, inv);
      }
      this.waiting.push(inv);
    }
    this.startMore();
  }

  private startMore(): void {
    while (!this.closed && this.running.size < this.context.workers && this.waiting.length > 0) {
      this.start(this.waiting.shift() as Invocation);
    }
  }

  private start(inv: Invocation): void {
    const args = [
      ...(cli.ts ? ['--import', 'tsx'] : []),
      cli.path,
      'worker',
      'run',
      '--bucket',
      inv.job.bucket,
      '--job',
      inv.job.jobKey,
      '--calls',
      formatCallSpec(inv.callIds),
      '--attempt',
      String(inv.attempt),
    ];
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        BURST_STORAGE_CONFIG: JSON.stringify(inv.job.storage),
        ...(inv.job.runtimeMemoryMB ? { BURST_RUNTIME_MEMORY_MB: String(inv.job.runtimeMemoryMB) } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr = new Tail(4096);
    child.stderr?.on('data', (d: Buffer) => stderr.push(d));
    this.running.add(child);
    this.invocations.set(child, inv);
    child.once('exit', (code, signal) => {
      this.running.delete(child);
      this.invocations.delete(child);
      for (const id of inv.callIds) {
        if (this.latest.get(`${inv.job.jobKey}/${id}`) !== inv) continue;
        this.latest.delete(`${inv.job.jobKey}/${id}`);
        this.ended.set(`${inv.job.jobKey}/${id}`, {
          at: Date.now(),
          state: code === 0 ? 'COMPLETED' : 'FAILED',
          exitCode: code,
          signal,
          reason: stderr.text().trim().split('\n').slice(-3).join('\n'),
        });
      }
      this.startMore();
    });
  }

  async lostCalls(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>> {
    // The monitor asks every few seconds; an ending older than this was either reported or not needed.
    const stale = Date.now() - 60_000;
    for (const [key, info] of this.ended) if (info.at < stale) this.ended.delete(key);
    const lost = new Map<number, LostCallInfo>();
    for (const id of callIds) {
      const info = this.ended.get(`${job.jobKey}/${id}`);
      if (info) lost.set(id, info);
    }
    return lost;
  }

  async cancel(job: JobDescriptor): Promise<void> {
    for (let i = this.waiting.length - 1; i >= 0; i--)
      if (this.waiting[i]?.job.jobKey === job.jobKey) this.waiting.splice(i, 1);
  }

  /** Drops or kills the `burst worker run` processes that run only these calls as `attempt` (a backup race's loser). */
  async cancelCalls(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    const ids = new Set(callIds);
    const only = (inv: Invocation): boolean =>
      inv.job.jobKey === job.jobKey && inv.attempt === attempt && inv.callIds.every((id) => ids.has(id));
    for (let i = this.waiting.length - 1; i >= 0; i--)
      if (only(this.waiting[i] as Invocation)) this.waiting.splice(i, 1);
    for (const [child, inv] of this.invocations) if (only(inv)) child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    await Promise.all(
      [...this.running].map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
  }
}
