/**
 * How the worker (./child.ts) tells its pool what happened: frames (./frames.ts) written synchronously
 * to fd 4, or for a worker thread to a ring in shared memory (./frame-ring.ts). A call's result is
 * written before the next call's start marker, so if the worker dies the pool knows exactly which
 * calls finished, which one was running and which never started. A child started by hand, without
 * the side pipe, sends its results over IPC instead.
 */
import { writeSync } from 'node:fs';
import { serialize } from 'node:v8';
import type { RingWriter } from './frame-ring.js';
import {
  isPlainSuccess,
  Outbox,
  pushOkFields,
  pushOkFrame,
  pushStartFrame,
  releasedFrame,
  resultsFrame,
} from './frames.js';
import type { CallRecord, FromChild } from './protocol.js';
import { serializeThrown } from '../serialize/errors.js';

const MARKER_FD = 4;

/** The worker's outgoing frames: queued in one reused buffer, written at each call's start. */
export class FrameReport {
  private readonly outbox = new Outbox();
  /** No side pipe (a child started by hand): results go over IPC, start markers nowhere. */
  private broken = false;
  /** Set once a whole record went out: the pool knows this worker's host, pid and start from it. */
  private identified = false;
  private readonly pause = new Int32Array(new SharedArrayBuffer(4));

  /** @param ring a thread's ring; a process writes to fd 4 */
  constructor(private readonly ring: RingWriter | null) {}

  /** Queues a finished call's record; it is written before anything else starts. */
  finished(batch: number, record: CallRecord): void {
    if (this.broken) return send({ t: 'results', batch, records: [record] });
    try {
      // Every record a worker makes has stats made by its stats(): plain fields only.
      if (this.identified && isPlainSuccess(record, true)) pushOkFrame(this.outbox, batch, record);
      else this.outbox.push(resultsFrame(batch, [record]));
    } catch {
      this.outbox.push(resultsFrame(batch, [cloneableRecord(record)]));
    }
    this.identified = true;
  }

  /**
   * Queues a plain success from its fields (warm, nothing logged, nothing read or stored apart);
   * false when it must go as a whole record instead ({@link finished}): before the worker's first
   * whole record, without the side pipe, or with a value the frame cannot carry.
   */
  finishedOk(batch: number, callId: number, attempt: number, fnStart: number, fnEnd: number, value: unknown): boolean {
    if (this.broken || !this.identified) return false;
    try {
      pushOkFields(this.outbox, batch, callId, attempt, fnStart, fnEnd, 0, value);
      return true;
    } catch {
      return false;
    }
  }

  /** Marks call `index` of batch `batch` as started (with the results before it), synchronously. */
  started(batch: number, index: number): void {
    pushStartFrame(this.outbox, batch, index);
    this.flush();
  }

  /** Says which calls the worker gives back unstarted (it will never run them), at once. */
  released(ranges: Array<{ batch: number; from: number }>): void {
    this.outbox.push(releasedFrame(ranges));
    this.flush();
  }

  /** Sends what is pending (results, then whatever the caller just added) in one write. */
  flush(): void {
    const length = this.outbox.length;
    if (length === 0) return;
    this.outbox.clear();
    if (this.broken) return;
    try {
      this.writeAll(this.outbox.bytes, length); // read before the next push can reuse the bytes
    } catch {
      this.broken = true; // started without the side pipe (e.g. by hand): run anyway
    }
  }

  /** Writes the first `length` bytes of `buf`, synchronously: once this returns, a SIGKILL cannot lose them. */
  private writeAll(buf: Buffer, length: number): void {
    if (this.ring) return this.ring.write(buf, length);
    let offset = 0;
    while (offset < length) {
      try {
        offset += writeSync(MARKER_FD, buf, offset, length - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        Atomics.wait(this.pause, 0, 0, 1); // the pool is reading: wait a moment
      }
    }
  }
}

/** Results go over IPC only when the side pipe is missing (a child started by hand). */
function send(msg: FromChild): void {
  try {
    process.send?.(msg);
  } catch (err) {
    // A result V8 cannot clone: send the others and turn the offenders into serialization errors.
    if (msg.t === 'results') process.send?.({ ...msg, records: msg.records.map(cloneableRecord) });
    else throw err;
  }
}

function cloneableRecord(record: CallRecord): CallRecord {
  if (!record.ok) return record;
  try {
    serialize(record.value);
    return record;
  } catch (err) {
    const { value: _dropped, ...rest } = record;
    const error = serializeThrown(err);
    return {
      ...rest,
      ok: false,
      error: {
        kind: 'serialization',
        name: 'SerializationError',
        message: `cannot serialize the result of call ${record.callId}: ${error.message}`,
        path: 'result',
      },
    };
  }
}
