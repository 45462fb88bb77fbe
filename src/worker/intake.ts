/**
 * What the process pool's workers send back (./pool.ts): start markers, results (whole records, or
 * plain successes as arguments) and calls given back unstarted, booked against the batches each
 * worker holds.
 */
import { plainCallRecord, type CallRecord, type PoolCall } from './protocol.js';
import {
  FRAME_RELEASED,
  FRAME_RESULTS,
  FRAME_RESULTS_JSON,
  FrameDecodeError,
  type Frame,
  type FrameSink,
} from './frames.js';
import type { WorkerSinks } from './worker-handle.js';
import type { Batch, QueuedTask, Slot } from './pool-types.js';

/** What the intake needs of its pool. */
export interface IntakeHost {
  /** Hands out work, then holds the processes alive only while there is work. */
  pump(): void;
  /** Puts calls a process gave back unstarted in front of their task's queue. */
  requeue(q: QueuedTask, calls: PoolCall[]): void;
  /** True once the pool aborts: a process is stopped as soon as it holds no more calls. */
  aborting(): boolean;
  /** A task of the slot's worker first uses `ctx.primitives`: start the client's server, then answer. */
  servePrimitives(slot: Slot): void;
}

/** Reads the pool's workers' output into their batches and hands each record to its task. */
export class Intake {
  /** When the frames being decoded were read: every frame of one read arrived at once (one clock read, not two per call). */
  private readAt = 0;
  /** Processes in a row that exited before starting a call: the pool counts them, any start resets it. */
  startupFailures = 0;

  constructor(
    private readonly counters: { released: number },
    private readonly pool: IntakeHost,
  ) {}

  /** Where the output of the slot's worker goes. */
  sinks(slot: Slot): WorkerSinks {
    const sink: FrameSink = {
      start: (batch, index) => this.onStart(slot, batch, index),
      ok: (batch, callId, attempt, fnStart, fnEnd, bytesOut, value) =>
        this.onOk(slot, batch, callId, attempt, fnStart, fnEnd, bytesOut, value),
      frame: (frame) => this.onFrame(slot, frame),
    };
    return {
      frames: (d) => {
        if (slot.undecodable) return;
        this.readAt = Date.now();
        try {
          slot.frames.push(d, sink);
        } catch (err) {
          if (!(err instanceof FrameDecodeError)) throw err;
          // Never an uncaught error in the client: the worker is stopped, and the call it ran
          // (its result is what could not be read) fails as a crash whose report says why.
          slot.undecodable = true;
          slot.stderr.push(Buffer.from(`${err.message}\n`));
          slot.child.kill();
        }
      },
      message: (msg) => {
        if (msg.t === 'results') this.onResults(slot, msg.batch, msg.records);
        else if (msg.t === 'primitives') this.pool.servePrimitives(slot);
      },
      stderr: (d) => slot.stderr.push(d),
    };
  }

  private onStart(slot: Slot, batchId: number, index: number): void {
    const batch = batchOf(slot, batchId);
    if (batch) {
      batch.started = Math.max(batch.started, index + 1);
      const now = this.readAt;
      // One object per worker, rewritten per call: it is only ever read at once, never kept.
      const cur = slot.current;
      if (cur) {
        cur.batch = batch;
        cur.index = index;
        cur.startedAt = now;
      } else slot.current = { batch, index, startedAt: now };
    }
    slot.everStarted = true;
    this.startupFailures = 0;
    if (slot.slow) {
      slot.slow = false;
      this.pool.pump();
    }
  }

  private onFrame(slot: Slot, frame: Frame): void {
    if (frame.type === FRAME_RESULTS || frame.type === FRAME_RESULTS_JSON) {
      const s = frame.records[0]?.stats;
      if (s && !slot.identity)
        slot.identity = {
          workerStart: s.workerStart,
          hostname: s.hostname,
          pid: s.pid,
          ...(s.threadId !== undefined ? { threadId: s.threadId } : {}),
        };
      this.onResults(slot, frame.batch, frame.records);
    } else if (frame.type === FRAME_RELEASED) {
      this.onReleased(slot, frame.ranges);
    }
  }

  private onResults(slot: Slot, batchId: number, records: CallRecord[]): void {
    const wasSlow = slot.slow;
    slot.slow = false; // records come in order: the long call has returned
    const batch = batchOf(slot, batchId);
    if (!batch) return;
    for (const record of records)
      if (this.accept(slot, batch, record.callId, record.stats.fnEnd - record.stats.fnStart))
        batch.q.task.onRecord(record);
    this.afterResults(slot, batch, wasSlow);
  }

  /** A plain success: to the task as arguments when it takes them, else as a record. */
  private onOk(
    slot: Slot,
    batchId: number,
    callId: number,
    attempt: number,
    fnStart: number,
    fnEnd: number,
    bytesOut: number,
    value: unknown,
  ): void {
    const wasSlow = slot.slow;
    slot.slow = false;
    const batch = batchOf(slot, batchId);
    if (!batch) return;
    if (this.accept(slot, batch, callId, fnEnd - fnStart)) {
      const task = batch.q.task;
      const worker = slot.identity;
      if (task.onPlain && worker) task.onPlain(callId, attempt, fnStart, fnEnd, bytesOut, value, worker, this.readAt);
      else task.onRecord(plainCallRecord(worker, callId, attempt, fnStart, fnEnd, bytesOut, value));
    }
    this.afterResults(slot, batch, wasSlow);
  }

  /** Marks a call of the batch done; true when its record goes to the task (not cancelled or stopped). */
  private accept(slot: Slot, batch: Batch, callId: number, runMs: number): boolean {
    let i = batch.cursor;
    if (batch.calls[i]?.callId !== callId || batch.done[i])
      i = batch.calls.findIndex((c, j) => !batch.done[j] && c.callId === callId);
    if (i < 0) return false;
    batch.cursor = i + 1;
    batch.done[i] = true;
    batch.left--;
    const call = batch.calls[i] as PoolCall;
    const q = batch.q;
    q.runMs += Math.max(0, runMs);
    q.runs++;
    if (slot.stopping.size > 0 && slot.stopping.delete(call)) {
      // Already settled (timed out or cancelled); the process reacted to the abort, so it lives on.
      if (slot.stopping.size === 0) slot.killAt = undefined;
      return false;
    }
    return !q.cancelled && !q.cancelledCalls.has(callId);
  }

  private afterResults(slot: Slot, batch: Batch, wasSlow: boolean): void {
    if (batch.left <= 0) {
      this.dropBatch(slot, batch);
      this.pool.pump();
    } else if (wasSlow) this.pool.pump();
  }

  private dropBatch(slot: Slot, batch: Batch): void {
    const at = slot.inflight.indexOf(batch);
    if (at >= 0) slot.inflight.splice(at, 1);
    if (this.pool.aborting() && slot.inflight.length === 0) slot.child.kill();
  }

  /** The process gave calls back unstarted: they go to the front of their task's queue. */
  private onReleased(slot: Slot, ranges: ReadonlyArray<{ batch: number; from: number }>): void {
    slot.releasing = false;
    for (const { batch: id, from } of ranges) {
      const batch = slot.inflight.find((b) => b.id === id);
      if (!batch || from >= batch.end) continue;
      const back: PoolCall[] = [];
      for (let i = from; i < batch.end; i++) {
        if (batch.done[i]) continue;
        batch.left--;
        back.push(batch.calls[i] as PoolCall);
      }
      batch.end = from;
      this.counters.released += back.length;
      this.pool.requeue(batch.q, back);
      if (batch.left <= 0) this.dropBatch(slot, batch);
    }
    this.pool.pump();
  }
}

/** The batch of the worker with this id: nearly always its oldest. */
function batchOf(slot: Slot, id: number): Batch | undefined {
  for (const b of slot.inflight) if (b.id === id) return b;
  return undefined;
}
