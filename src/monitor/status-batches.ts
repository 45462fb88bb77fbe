/**
 * Keeps a record in storage of jobs that ran through the localhost IPC channel, so `burst jobs`,
 * `burst logs` and plots see them like any other job. Status records (stats, errors, logs; not
 * results) are written in batches, `status-batches/<n>`, so a 100,000-call job costs ~50 writes.
 */
import { randomBytes } from 'node:crypto';
import type { StorageDriver } from '../storage/types.js';
import type { CallRecord, WorkerIdentity } from '../worker/protocol.js';
import { keys } from '../job/layout.js';
import { StatusColumnsBuilder } from '../job/status.js';

const MAX_RECORDS = 2000;
const MAX_DELAY_MS = 1000;

/** Key of the n-th status batch of one writer of a job; `nonce` keeps a later writer (a re-run) from overwriting it. */
export const statusBatchKey = keys.statusBatch;

/** Collects a job's call records and writes them in batches. */
export class StatusBatchWriter {
  private readonly pending = new StatusColumnsBuilder();
  private seq = 0;
  private readonly nonce = randomBytes(3).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** The first write error, if any (reported, never thrown into the job). */
  error: unknown;

  constructor(
    private readonly storage: StorageDriver,
    private readonly bucket: string,
    private readonly jobKey: string,
  ) {}

  add(record: CallRecord): void {
    this.pending.add(record);
    this.added();
  }

  /** A plain success from its fields (see {@link StatusColumnsBuilder.addPlain}). */
  addPlain(
    callId: number,
    attempt: number,
    worker: WorkerIdentity,
    fnStart: number,
    fnEnd: number,
    bytesOut: number,
    storedAt: number,
  ): void {
    this.pending.addPlain(callId, attempt, worker, fnStart, fnEnd, bytesOut, storedAt);
    this.added();
  }

  private added(): void {
    // flush() never rejects (a failed write is kept in this.error): nothing to await here.
    if (this.pending.size >= MAX_RECORDS) void this.flush();
    else this.timer ??= setTimeout(() => this.flush(), MAX_DELAY_MS).unref();
  }

  /** Writes what is pending; resolves when every write so far is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) {
      const body = this.pending.encode();
      const key = statusBatchKey(this.jobKey, this.seq++, this.nonce);
      this.writing = this.writing.then(() =>
        this.storage.put(this.bucket, key, body).then(
          () => undefined,
          (err: unknown) => {
            this.error ??= err;
          },
        ),
      );
    }
    return this.writing;
  }
}
