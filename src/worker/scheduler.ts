/**
 * The process pool's hand-out (./pool.ts): which process gets which calls, and how many at a time.
 *
 * Calls go out in batches sized by guided self-scheduling and by the measured call time. A process
 * whose call runs long gets nothing more, and gives back what it holds unstarted; an idle process
 * takes back the unstarted calls of the busiest one. So no process idles while a call waits in
 * another's queue.
 */
import type { PoolCall, ToChild } from './protocol.js';
import type { Batch, PoolOptions, QueuedTask, Slot } from './pool-types.js';

const MAX_INFLIGHT = 2;
const MAX_BATCH = 256;
/** Batches of at least this many calls send their ids and numeric inputs as typed arrays. */
const TYPED_BATCH = 32;
/**
 * A batch holds about this much measured work, and a process holds no more than this unstarted: work
 * queued in a process cannot be taken back while a synchronous call runs there.
 */
const BATCH_MS = 20;

/** Cuts the pool's queued tasks into batches and sends each to a process; numbers the batches. */
export class Scheduler {
  private batchSeq = 0;

  /** `slots` and `queue` are the pool's own: it adds and removes processes and tasks. */
  constructor(
    private readonly slots: ReadonlySet<Slot>,
    private readonly queue: QueuedTask[],
    private readonly options: PoolOptions,
  ) {}

  /**
   * Hands out batches, least-loaded process first; then lets idle processes take unstarted calls
   * (not while `aborting`). The pool calls it only while open.
   */
  handOut(aborting: boolean): void {
    const limit = this.options.pipeline ?? MAX_INFLIGHT;
    const now = Date.now();
    for (;;) {
      // Until the job has returned as many calls as there are processes, a process holds one batch of
      // it: a call or two say little of the next one's length, and a process's start of a long call
      // may not be read yet (each worker's frames are read on their own wake-up) when another's
      // short one returns, so nothing short is queued behind a long call that looks unstarted.
      const head = this.queue.find((q) => !q.cancelled && q.pending.size > 0);
      const calibrating = head !== undefined && head.runs < this.slots.size;
      // At the tail, with no more calls left than processes, a process holds one batch as well: a
      // call queued in a busy process waits for whatever runs there (a synchronous call cannot be
      // interrupted to give it back), where another process is soon free to start it. Long calls
      // last in the inputs each got a process of their own only by luck before (bench/schedule.ts).
      const tail = pendingCalls(this.queue) <= this.slots.size;
      let best: Slot | undefined;
      for (const s of this.slots) {
        // A process being stopped, or busy with a long call, gets no more work.
        if (!s.child.connected || s.killAt !== undefined || s.slow || s.inflight.length >= limit) continue;
        // Work queued in a process waits even when another frees up (a running call cannot be
        // interrupted to give it back): hold at most BATCH_MS of measured work there.
        // Nor behind a call already running longer than half its job's mean (any, before one returned).
        if (s.inflight.length > 0 && (calibrating || tail || heldMs(s) >= BATCH_MS || overrun(s, now))) continue;
        if (!best || s.inflight.length < best.inflight.length) best = s;
      }
      if (!best) break;
      const batch = this.nextBatch();
      if (!batch) break;
      best.inflight.push(batch);
      best.child.send(runMessage(best, batch));
    }
    this.feedIdle(aborting);
  }

  private nextBatch(): Batch | undefined {
    while (this.queue.length > 0) {
      const q = this.queue[0] as QueuedTask;
      if (q.cancelled || q.pending.size === 0) {
        this.queue.shift();
        continue;
      }
      const calls: PoolCall[] = [];
      const size = q.task.chunksize ?? this.batchSize(q);
      while (calls.length < size) {
        const call = q.pending.take();
        if (!call) break;
        if (!q.cancelledCalls.has(call.callId)) calls.push(call);
      }
      if (calls.length === 0) continue;
      return {
        id: ++this.batchSeq >>> 0,
        q,
        calls,
        done: new Array<boolean>(calls.length).fill(false),
        left: calls.length,
        cursor: 0,
        started: 0,
        end: calls.length,
      };
    }
    return undefined;
  }

  /** Guided self-scheduling, capped so a batch holds about {@link BATCH_MS} of measured work. */
  private batchSize(q: QueuedTask): number {
    const remaining = pendingCalls(this.queue);
    const guided = Math.ceil(remaining / (this.options.size * 4));
    // Until a call of the job has returned, its length is unknown: one call per process.
    const byTime = q.runs > 0 ? Math.floor(BATCH_MS / Math.max(q.runMs / q.runs, 0.001)) : 1;
    return Math.max(1, Math.min(MAX_BATCH, guided, byTime));
  }

  /** With nothing left in the queue, each idle process takes back the unstarted calls of the busiest. */
  private feedIdle(aborting: boolean): void {
    if (aborting || this.queue.some((q) => !q.cancelled && q.pending.size > 0)) return;
    for (const idle of this.slots) {
      if (idle.inflight.length > 0 || !idle.child.connected || idle.killAt !== undefined) continue;
      let victim: Slot | undefined;
      let most = 0;
      for (const s of this.slots) {
        const n = s.releasing ? 0 : unstarted(s);
        if (n > most) [victim, most] = [s, n];
      }
      if (!victim) return;
      release(victim);
    }
  }
}

/** Calls queued in the pool, not handed out yet. */
function pendingCalls(queue: readonly QueuedTask[]): number {
  let n = 0;
  for (const t of queue) n += t.pending.size;
  return n;
}

/** Expected run time of what a process holds unstarted; a job not measured yet counts as long. */
function heldMs(slot: Slot): number {
  let ms = 0;
  for (const b of slot.inflight) {
    const n = b.end - b.started;
    if (n > 0) ms += b.q.runs > 0 ? (n * b.q.runMs) / b.q.runs : Infinity;
  }
  return ms;
}

/** True when the process's running call has run longer than half its job's mean call (or 1 ms). */
function overrun(slot: Slot, now: number): boolean {
  const cur = slot.current;
  if (!cur || cur.batch.done[cur.index] || cur.index >= cur.batch.end) return false;
  const q = cur.batch.q;
  return now - cur.startedAt >= Math.max(1, q.runs > 0 ? q.runMs / q.runs / 2 : 0);
}

/** Calls a process holds that it has not started. */
export function unstarted(slot: Slot): number {
  let n = 0;
  for (const b of slot.inflight) n += Math.max(0, b.end - b.started);
  return n;
}

/** Asks the process to give back what it holds unstarted (it answers with a RELEASED frame). */
export function release(slot: Slot): void {
  slot.releasing = true;
  slot.child.send({ t: 'release' });
}

/** A batch as its worker gets it: the job named by id when the worker has it already, the calls in columns. */
function runMessage(slot: Slot, batch: Batch): ToChild {
  const job = batch.q.task.job;
  const n = batch.calls.length;
  // Typed arrays travel as one copy of their bytes, where V8's format encodes an array element by
  // element: call ids always fit, inputs when all are numbers (a Float64Array keeps each exactly).
  // Not for a few calls of long work: each typed array is a fresh ArrayBuffer in the worker, which
  // every young-generation GC there then sweeps while a call waits (issue 16).
  const typed = n >= TYPED_BATCH;
  const callIds = typed ? new Uint32Array(n) : new Array<number>(n);
  const inputs =
    typed && batch.calls.every((c) => typeof c.input === 'number') ? new Float64Array(n) : new Array<unknown>(n);
  let attempts: number | number[] = batch.calls[0]?.attempt ?? 1;
  for (let i = 0; i < n; i++) {
    const c = batch.calls[i] as PoolCall;
    callIds[i] = c.callId;
    inputs[i] = c.input;
    if (typeof attempts === 'number' && c.attempt !== attempts) attempts = batch.calls.map((x) => x.attempt);
  }
  const msg: ToChild = {
    t: 'run',
    batch: batch.id,
    job: slot.lastJob === job ? job.jobId : job,
    callIds,
    attempts,
    inputs,
  };
  slot.lastJob = job;
  return msg;
}
