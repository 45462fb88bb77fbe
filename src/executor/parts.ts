/**
 * The executor's lazily created parts: storage driver, compute backend, storage monitor and the
 * bundles already shipped. Nothing is created until the first job, so `new FunctionExecutor()` is free.
 */
import { createBackend } from '../backends/index.js';
import type { ComputeBackend } from '../backends/types.js';
import type { ResolvedOptions } from '../config/defaults.js';
import { BurstError, CancelledError, ConfigError } from '../errors.js';
import { StorageMonitor } from '../monitor/storage-monitor.js';
import { StatusBatchWriter } from '../monitor/status-batches.js';
import { createStorage } from '../storage/index.js';
import type { StorageDriver } from '../storage/types.js';
import { resolveSigningKey } from '../security/signing.js';

/** The parts a job needs, ready. */
export interface Ready {
  storage: StorageDriver;
  backend: ComputeBackend;
  monitor: StorageMonitor;
}

/** Creates and owns the executor's storage, backend and monitor. */
export class ExecutorParts {
  private starting: Promise<Ready> | undefined;
  private parts: Ready | undefined;
  /** Bundle hashes known to be in storage, and local bundle paths by hash. */
  readonly uploaded = new Set<string>();
  readonly localBundles = new Map<string, string>();
  private readonly writers = new Map<string, StatusBatchWriter>();
  private readonly flushing = new Set<Promise<void>>();
  private closed = false;

  constructor(
    readonly options: ResolvedOptions,
    readonly executorId: string,
  ) {}

  /** Creates storage, backend and monitor on first use. */
  ready(): Promise<Ready> {
    // A submission racing close() must not create a backend (and its worker processes) nobody closes.
    if (this.closed && !this.starting)
      return Promise.reject(new CancelledError('the executor is closed', { executorId: this.executorId }));
    this.starting ??= this.start().then((r) => (this.parts = r));
    return this.starting;
  }

  private async start(): Promise<Ready> {
    const o = this.options;
    const storageName = typeof o.storage === 'string' ? o.storage : o.storage.name;
    const storage = await createStorage(o.storage, objectOption(o.raw[storageName]));
    await ensureBucket(storage, o.bucket);
    const backendName = typeof o.backend === 'string' ? o.backend : o.backend.name;
    if (storage.capabilities.processes === false) {
      throw new ConfigError(
        `the ${storage.name} storage lives in this process and cannot be reached by ${backendName} workers; use "fs" (the default) or "s3"`,
        { keyPath: 'storage', backend: backendName },
      );
    }
    const backendOptions = objectOption(
      o.raw[backendName] ?? (o.raw.backendOptions as Record<string, unknown> | undefined)?.[backendName],
    );
    const signingKey = resolveSigningKey(o.raw.signingKey);
    const backend = await createBackend(o.backend, backendOptions, {
      ...(signingKey ? { signingKey } : {}),
      workers: o.workers,
      ...(o.runtimeMemory ? { runtimeMemoryMB: o.runtimeMemory } : {}),
      storage: storage.config,
      storageIsRemote: storage.capabilities.remote,
      bucket: o.bucket,
    });
    const monitor = new StorageMonitor(
      storage,
      backend,
      storage.capabilities.local === true ? { min: 25, max: 250 } : { min: 200, max: 2000 },
    );
    return { storage, backend, monitor };
  }

  /** The status-batch writer of an IPC job (created on first use). */
  statusWriter(jobKey: string): StatusBatchWriter {
    let w = this.writers.get(jobKey);
    if (!w) {
      if (!this.parts)
        throw new BurstError(
          'INTERNAL',
          `the status writer of job ${jobKey} was asked for before the executor's storage was ready`,
          { executorId: this.executorId },
        );
      w = new StatusBatchWriter(this.parts.storage, this.options.bucket, jobKey);
      this.writers.set(jobKey, w);
    }
    return w;
  }

  /** Flushes and forgets the writer of a finished job (close() still waits for the flush). */
  releaseStatusWriter(jobKey: string): void {
    const w = this.writers.get(jobKey);
    if (!w) return;
    this.writers.delete(jobKey);
    const done = w.flush();
    this.flushing.add(done);
    void done.finally(() => this.flushing.delete(done));
  }

  /** Why results cannot be read right now (storage unreachable), if that is the case. */
  storageTrouble(): unknown {
    return this.parts?.monitor.lastError;
  }

  /** Counters of the backend and monitor, for tests and stats. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    const backendCounters = this.parts?.backend.counters;
    for (const [k, v] of Object.entries(backendCounters ?? {})) out[`backend.${k}`] = v;
    for (const [k, v] of Object.entries(this.parts?.monitor.requests ?? {})) out[`storage.${k}`] = v;
    return out;
  }

  /**
   * Stops the monitor and the backend's workers while the status writers flush and `beforeLease`
   * settles; then `releaseLease`; the storage's sockets close last, after every write. Everything is
   * closed even when a step fails; the first failure is thrown at the end.
   */
  async close(
    steps: { beforeLease?: Array<Promise<unknown> | undefined>; releaseLease?: () => unknown } = {},
  ): Promise<void> {
    this.closed = true;
    const failures: unknown[] = [];
    const settled = (work: Array<Promise<unknown> | undefined>): Promise<void> =>
      Promise.allSettled(work).then((results) => {
        for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
      });
    // Handled at once: a step may fail while this waits for parts still starting.
    const before = settled(steps.beforeLease ?? []);
    const parts = this.parts ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    const flushes = [...this.writers.values()].map((w) => w.flush()).concat([...this.flushing]);
    await Promise.all([
      before,
      settled([...flushes, parts ? (parts.monitor.stop(), parts.backend.close()) : undefined]),
    ]);
    this.writers.clear();
    await settled([Promise.resolve().then(steps.releaseLease)]);
    if (parts) await settled([parts.storage.close?.()]);
    if (failures.length > 0) throw failures[0];
  }
}

/** Creates Burst's bucket on first use (zero configuration); another process may race us to it. */
async function ensureBucket(storage: StorageDriver, bucket: string): Promise<void> {
  if (await storage.bucketExists(bucket)) return;
  try {
    await storage.createBucket(bucket);
  } catch (err) {
    if (!(await storage.bucketExists(bucket))) throw err;
  }
}

function objectOption(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}
