/**
 * The client lease: while an executor has jobs, it rewrites a small object next to them,
 * `burst/jobs/<executor>/lease`, every third of the lease's length. A job with calls left whose lease
 * has run out has lost its client (killed, or closed before its calls finished): `burst jobs`,
 * `burst logs`, `burst plot` and the dashboard call it abandoned instead of running, and
 * `FunctionExecutor.attach(id, { resubmit: true })` can finish it.
 */
import { hostname } from 'node:os';
import { ConfigError } from '../errors.js';
import type { StorageDriver } from '../storage/types.js';
import { keys } from './layout.js';
import { field, isNumber, parseObject, type RecordSource } from './record.js';

/** Length of a lease when the executor's `leaseSeconds` is not set. */
export const DEFAULT_LEASE_SECONDS = 30;

/** The lease object as stored. */
export interface LeaseRecord {
  /** `<host>:<pid>` of the client holding it. */
  holder: string;
  /** When it was last written (epoch ms, the client's clock). */
  renewedAt: number;
  /** When it runs out unless renewed (epoch ms, the client's clock). */
  expiresAt: number;
}

/** Key of an executor's lease. */
export const leaseKey = keys.lease;

/** The `leaseSeconds` option, checked: a positive number of seconds, at least 1. */
export function leaseSecondsOf(value: unknown): number {
  if (value === undefined) return DEFAULT_LEASE_SECONDS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new ConfigError(`leaseSeconds must be a number of seconds of at least 1, got ${JSON.stringify(value)}`, {
      keyPath: 'leaseSeconds',
    });
  }
  return value;
}

/** Keeps an executor's lease alive from the first job until `stop()`. */
export class ClientLease {
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  /** The write in flight, if any: stop() waits for it, so a late renewal cannot bring the lease back. */
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly storage: StorageDriver,
    private readonly bucket: string,
    private readonly executorId: string,
    private readonly seconds: number,
  ) {}

  /** Writes the lease and starts renewing it; resolves once the first write landed (or failed). */
  start(): Promise<void> {
    this.started ??= this.renew().then(() => {
      if (this.stopped) return;
      // Unref'd: the lease never keeps a process alive on its own.
      this.timer = setInterval(() => void this.renew(), (this.seconds * 1000) / 3).unref();
    });
    return this.started;
  }

  /** Stops renewing and removes the lease: the client is gone on purpose. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.started) return;
    await this.started;
    await this.writing;
    await this.storage.delete(this.bucket, [leaseKey(this.executorId)]).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    const record: LeaseRecord = {
      holder: `${hostname()}:${process.pid}`,
      renewedAt: now,
      expiresAt: now + this.seconds * 1000,
    };
    // A failed renewal (storage briefly out) is retried at the next tick; a lease that runs out
    // while storage is down only makes readers call the job abandoned until the next write.
    const write = this.storage.put(this.bucket, leaseKey(this.executorId), encodeLease(record)).then(
      () => undefined,
      () => undefined,
    );
    this.writing = write;
    await write;
    if (this.writing === write) this.writing = undefined;
  }
}

/** An executor's lease as stored, or undefined when it has none (never had one, or closed). */
export async function readLease(
  storage: StorageDriver,
  bucket: string,
  executorId: string,
): Promise<LeaseRecord | undefined> {
  const key = leaseKey(executorId);
  try {
    return decodeLease(await storage.get(bucket, key), { bucket, key });
  } catch {
    return undefined; // no lease object, or not one of ours
  }
}

/** The bytes of a lease record. */
export function encodeLease(record: LeaseRecord): string {
  return JSON.stringify(record);
}

/**
 * Parses and checks a stored lease.
 * @throws MalformedRecordError naming the key and the field at fault.
 */
export function decodeLease(input: Uint8Array | string, source: RecordSource | string): LeaseRecord {
  const what = 'client lease';
  const r = parseObject(input, source, what);
  const renewedAt = field(r, 'renewedAt', isNumber, 'a time in epoch ms', source, what);
  const expiresAt = field(r, 'expiresAt', isNumber, 'a time in epoch ms', source, what);
  return { holder: String(r.holder ?? ''), renewedAt, expiresAt };
}

/** Whether a lease is held at `now`. */
export function leaseAlive(lease: LeaseRecord | undefined, now = Date.now()): boolean {
  return lease !== undefined && lease.expiresAt > now;
}
