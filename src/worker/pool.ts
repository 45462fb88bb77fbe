/**
 * A pool of worker processes (src/worker/child.ts) that runs batches of calls. Used by the localhost
 * backend in the client and by `burst worker run` on remote nodes.
 *
 * A crash, `process.exit` or out-of-memory kills one call, never the caller. The child writes each
 * result and each start marker synchronously to a side pipe (./frames.ts), so after a crash the pool
 * knows which calls finished (delivered, never run again), which one was running (blamed: reported as
 * a crash of that attempt) and which never started (re-queued, same attempt). A call over its timeout,
 * or cancelled, is aborted, then its process killed after a grace.
 *
 * Scheduling: calls go out in batches sized by guided self-scheduling and by the measured call time.
 * A process whose call runs long gets nothing more, and gives back what it holds unstarted; an idle
 * process takes back the unstarted calls of the busiest one. So no process idles while a call waits
 * in another's queue.
 */
import { plainCallRecord, type CallRecord, type PoolCall, type SerializedError, type ToChild } from './protocol.js';
import {
  FRAME_RELEASED,
  FRAME_RESULTS,
  FRAME_RESULTS_JSON,
  FrameDecodeError,
  FrameReader,
  type Frame,
  type FrameSink,
} from './frames.js';
import { CancelledError } from '../errors.js';
import { Tail } from './tail.js';
import { spawnWorker } from './worker-handle.js';
import { CallQueue } from './call-queue.js';
import { fillsCores, holdSerialScavenges } from './scavenges.js';
import {
  crashError,
  type Batch,
  type PoolCancel,
  type PoolOptions,
  type PoolTask,
  type QueuedTask,
  type Slot,
} from './pool-types.js';

export type { PoolOptions, PoolTask, PoolCancel } from './pool-types.js';

const MAX_INFLIGHT = 2;
const MAX_BATCH = 256;
/** Batches of at least this many calls send their ids and numeric inputs as typed arrays. */
const TYPED_BATCH = 32;
/**
 * A batch holds about this much measured work, and a process holds no more than this unstarted: work
 * queued in a process cannot be taken back while a synchronous call runs there.
 */
const BATCH_MS = 20;
/** A call running this long (or twice the job's mean) gives back what waits behind it. */
const SLOW_MS = 50;
const CHECK_MS = 50;
const MAX_STARTUP_FAILURES = 3;

/** A pool of reusable worker processes, started on first use. */
export class ProcessPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: QueuedTask[] = [];
  private batchSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set by {@link abort}: a process is stopped as soon as it holds no more calls. */
  private aborting = false;
  private startupFailures = 0;
  /** When the frames being decoded were read: every frame of one read arrived at once (one clock read, not two per call). */
  private readAt = 0;
  /** Starts the client's primitives server: from the last task that brought one (see servePrimitives). */
  private primitivesStarter: (() => Promise<void>) | undefined;
  /** Releases this process's serial scavenges: set while a thread pool that fills every core runs. */
  private releaseScavenges: (() => void) | undefined;
  /** Processes started, crashed, timed out, killed after a cancel, and calls given back unstarted. */
  readonly counters = { spawned: 0, crashed: 0, timedOut: 0, cancelKills: 0, released: 0 };

  constructor(private readonly options: PoolOptions) {}

  /** Queues calls; records arrive through `task.onRecord`. Returns a function that cancels calls. */
  submit(task: PoolTask): PoolCancel {
    if (this.closed)
      throw new CancelledError(`the process pool is closed; job ${task.job.jobId} was not started`, {
        jobId: task.job.jobId,
        executorId: task.job.executorId,
      });
    const q: QueuedTask = {
      task,
      pending: new CallQueue(task.calls),
      cancelled: false,
      cancelledCalls: new Set(),
      runMs: 0,
      runs: 0,
    };
    this.queue.push(q);
    if (task.primitives) this.primitivesStarter = task.primitives;
    this.ensureWorkers();
    this.pump();
    return (callIds, reason = 'cancelled') => this.cancel(q, callIds, reason);
  }

  /** Starts the worker processes ahead of the first task (they boot while its function is packaged). */
  warm(): void {
    if (!this.closed) this.ensureWorkers();
  }

  /** Kills every worker process and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    this.holdWhileBusy();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    const exits = [...this.slots].map(
      (slot) =>
        new Promise<void>((resolve) => {
          if (slot.child.exited) return resolve();
          slot.child.onExit(() => resolve());
          slot.child.kill();
        }),
    );
    await Promise.all(exits);
    this.slots.clear();
    this.releaseScavenges?.();
    this.releaseScavenges = undefined;
  }

  /**
   * Stops the pool for good, gently: nothing more is handed out, every call a process holds gets its
   * abort signal with `reason` (those not started end as cancelled records), and each process is killed
   * once its calls have returned or after `graceMs`. Records of calls that end in time are still
   * delivered. Resolves when all have exited.
   */
  async abort(reason: string, graceMs: number): Promise<void> {
    this.closed = true;
    this.holdWhileBusy();
    this.aborting = true;
    this.queue.length = 0;
    const exits = [...this.slots].map((slot) => this.exited(slot));
    for (const slot of this.slots) {
      for (const batch of slot.inflight) {
        const ids = batch.calls.filter((_, i) => !batch.done[i]).map((c) => c.callId);
        if (ids.length) this.sendTo(slot, { t: 'cancel', jobId: batch.q.task.job.jobId, callIds: ids, reason });
      }
      if (slot.inflight.length === 0) slot.child.kill();
    }
    const grace = setTimeout(() => {
      for (const slot of this.slots) slot.child.kill();
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(grace);
    await this.close();
  }

  /** Number of live worker processes. */
  get size(): number {
    return this.slots.size;
  }

  /** Resolves once the slot's process has exited. */
  private exited(slot: Slot): Promise<void> {
    return new Promise<void>((resolve) => {
      if (slot.child.exited) return resolve();
      slot.child.onExit(() => resolve());
    });
  }

  private ensureWorkers(): void {
    // Threads share this process's V8: its helper threads would preempt them (./scavenges.ts).
    if (this.options.isolation === 'thread' && !this.closed && fillsCores(this.options.size))
      this.releaseScavenges ??= holdSerialScavenges();
    while (this.slots.size < this.options.size) this.spawn();
    this.timer ??= setInterval(() => this.checkSlots(), CHECK_MS).unref();
  }

  private spawn(): void {
    const slot = {} as Slot;
    const sink: FrameSink = {
      start: (batch, index) => this.onStart(slot, batch, index),
      ok: (batch, callId, attempt, fnStart, fnEnd, bytesOut, value) =>
        this.onOk(slot, batch, callId, attempt, fnStart, fnEnd, bytesOut, value),
      frame: (frame) => this.onFrame(slot, frame),
    };
    const child = spawnWorker(
      {
        isolation: this.options.isolation ?? 'process',
        ...(this.options.runtimeMemoryMB ? { runtimeMemoryMB: this.options.runtimeMemoryMB } : {}),
        ...(this.options.env ? { env: this.options.env } : {}),
        ...(fillsCores(this.options.size) ? { serialScavenges: true } : {}),
      },
      {
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
          else if (msg.t === 'primitives') this.servePrimitives(slot);
        },
        stderr: (d) => slot.stderr.push(d),
      },
    );
    Object.assign(slot, {
      child,
      inflight: [],
      frames: new FrameReader(),
      stopping: new Set(),
      everStarted: false,
      stderr: new Tail(8192),
      releasing: false,
      slow: false,
    } satisfies Slot);
    this.counters.spawned++;
    this.slots.add(slot);
    child.onExit((code, signal) => this.onExit(slot, code, signal));
    this.sendTo(slot, {
      t: 'init',
      ...(this.options.storage ? { storage: this.options.storage } : {}),
      ...(this.options.bucket ? { bucket: this.options.bucket } : {}),
    });
    this.holdWhileBusy(); // a replacement for a crashed process may start while the pool is idle
  }

  private sendTo(slot: Slot, msg: ToChild): void {
    slot.child.send(msg);
  }

  /**
   * A worker's task uses `ctx.primitives`: the client's server starts (once) before the worker
   * connects. Every task of a pool is its executor's, so the last one submitted with a starter serves.
   * A pool without one (a `burst worker` run from storage) answers at once: its client's server listens.
   */
  private servePrimitives(slot: Slot): void {
    const start = this.primitivesStarter?.() ?? Promise.resolve();
    start.then(
      () => this.sendTo(slot, { t: 'primitives' }),
      (err: unknown) => this.sendTo(slot, { t: 'primitives', error: (err as Error)?.message ?? String(err) }),
    );
  }

  /** Hands out work, then holds the processes alive only while there is work (see hold.ts). */
  private pump(): void {
    this.handOut();
    this.holdWhileBusy();
  }

  /** Idle worker processes do not keep this process alive; busy or closing ones do. */
  private holdWhileBusy(): void {
    const busy =
      this.closed ||
      this.queue.some((q) => !q.cancelled && q.pending.size > 0) ||
      [...this.slots].some((s) => s.inflight.length > 0 || s.stopping.size > 0);
    for (const slot of this.slots) slot.child.hold(busy);
  }

  /** Hands out batches, least-loaded process first; then lets idle processes take unstarted calls. */
  private handOut(): void {
    if (this.closed) return;
    const limit = this.options.pipeline ?? MAX_INFLIGHT;
    const now = Date.now();
    for (;;) {
      let best: Slot | undefined;
      for (const s of this.slots) {
        // A process being stopped, or busy with a long call, gets no more work.
        if (!s.child.connected || s.killAt !== undefined || s.slow || s.inflight.length >= limit) continue;
        // Work queued in a process waits even when another frees up (a running call cannot be
        // interrupted to give it back): hold at most BATCH_MS of measured work there.
        // Nor behind a call already running longer than half its job's mean (any, before one returned).
        if (s.inflight.length > 0 && (this.heldMs(s) >= BATCH_MS || this.overrun(s, now))) continue;
        if (!best || s.inflight.length < best.inflight.length) best = s;
      }
      if (!best) break;
      const batch = this.nextBatch();
      if (!batch) break;
      best.inflight.push(batch);
      this.sendTo(best, runMessage(best, batch));
    }
    this.feedIdle();
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
    const remaining = this.queue.reduce((n, t) => n + t.pending.size, 0);
    const guided = Math.ceil(remaining / (this.options.size * 4));
    // Until a call of the job has returned, its length is unknown: one call per process.
    const byTime = q.runs > 0 ? Math.floor(BATCH_MS / Math.max(q.runMs / q.runs, 0.001)) : 1;
    return Math.max(1, Math.min(MAX_BATCH, guided, byTime));
  }

  /** Expected run time of what a process holds unstarted; a job not measured yet counts as long. */
  private heldMs(slot: Slot): number {
    let ms = 0;
    for (const b of slot.inflight) {
      const n = b.end - b.started;
      if (n > 0) ms += b.q.runs > 0 ? (n * b.q.runMs) / b.q.runs : Infinity;
    }
    return ms;
  }

  /** True when the process's running call has run longer than half its job's mean call (or 1 ms). */
  private overrun(slot: Slot, now: number): boolean {
    const cur = slot.current;
    if (!cur || cur.batch.done[cur.index] || cur.index >= cur.batch.end) return false;
    const q = cur.batch.q;
    return now - cur.startedAt >= Math.max(1, q.runs > 0 ? q.runMs / q.runs / 2 : 0);
  }

  /** Calls a process holds that it has not started. */
  private unstarted(slot: Slot): number {
    let n = 0;
    for (const b of slot.inflight) n += Math.max(0, b.end - b.started);
    return n;
  }

  /** With nothing left in the queue, each idle process takes back the unstarted calls of the busiest. */
  private feedIdle(): void {
    if (this.aborting || this.queue.some((q) => !q.cancelled && q.pending.size > 0)) return;
    for (const idle of this.slots) {
      if (idle.inflight.length > 0 || !idle.child.connected || idle.killAt !== undefined) continue;
      let victim: Slot | undefined;
      let most = 0;
      for (const s of this.slots) {
        const n = s.releasing ? 0 : this.unstarted(s);
        if (n > most) [victim, most] = [s, n];
      }
      if (!victim) return;
      this.release(victim);
    }
  }

  private release(slot: Slot): void {
    slot.releasing = true;
    this.sendTo(slot, { t: 'release' });
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
      this.pump();
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
      this.pump();
    } else if (wasSlow) this.pump();
  }

  private dropBatch(slot: Slot, batch: Batch): void {
    const at = slot.inflight.indexOf(batch);
    if (at >= 0) slot.inflight.splice(at, 1);
    if (this.aborting && slot.inflight.length === 0) slot.child.kill();
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
      this.requeue(batch.q, back);
      if (batch.left <= 0) this.dropBatch(slot, batch);
    }
    this.pump();
  }

  private requeue(q: QueuedTask, calls: PoolCall[]): void {
    if (q.cancelled || calls.length === 0 || this.closed) return;
    q.pending.putBack(calls);
    // The task may have left the queue when its last calls were handed out: put it back in front.
    if (!this.queue.includes(q)) this.queue.unshift(q);
  }

  private cancel(q: QueuedTask, callIds: readonly number[] | undefined, reason: string): void {
    if (q.cancelled) return;
    if (callIds === undefined) {
      q.cancelled = true;
      q.pending.clear();
    } else {
      for (const id of callIds) q.cancelledCalls.add(id);
    }
    const hit = (call: PoolCall): boolean => callIds === undefined || q.cancelledCalls.has(call.callId);
    const graceMs = (this.options.killGraceSeconds ?? 1) * 1000;
    for (const slot of this.slots) {
      const held = slot.inflight.filter((b) => b.q === q && b.calls.some((c, i) => i < b.end && !b.done[i] && hit(c)));
      if (held.length === 0) continue;
      this.sendTo(slot, {
        t: 'cancel',
        jobId: q.task.job.jobId,
        callIds: callIds === undefined ? null : [...callIds],
        reason,
      });
      const cur = slot.current;
      const running =
        cur && cur.batch.q === q && !cur.batch.done[cur.index] ? (cur.batch.calls[cur.index] as PoolCall) : undefined;
      if (running && hit(running) && !slot.stopping.has(running)) {
        slot.stopping.add(running);
        slot.killAt = Math.min(slot.killAt ?? Infinity, Date.now() + graceMs);
      }
    }
    this.pump();
  }

  /** Every {@link CHECK_MS}: kills what overstayed its grace, times calls out, spots long calls. */
  private checkSlots(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      if (slot.killAt !== undefined && now >= slot.killAt) {
        if (slot.stopping.size > 0 && [...slot.stopping].some((c) => !this.isTimedOut(c))) this.counters.cancelKills++;
        slot.child.kill();
        continue;
      }
      const cur = slot.current;
      if (!cur || cur.batch.done[cur.index]) continue;
      const call = cur.batch.calls[cur.index] as PoolCall;
      if (slot.stopping.has(call)) continue;
      const q = cur.batch.q;
      const elapsed = now - cur.startedAt;
      if (elapsed > q.task.job.timeoutMs) {
        this.timeOut(slot, cur.batch, call, cur.startedAt);
        continue;
      }
      // A long call: what waits behind it goes to processes that are free sooner.
      if (!slot.slow && elapsed > Math.max(SLOW_MS, q.runs > 0 ? (2 * q.runMs) / q.runs : 0)) {
        slot.slow = true;
        if (!slot.releasing && this.unstarted(slot) > 0) this.release(slot);
      }
    }
    if (this.queue.length === 0 && [...this.slots].every((s) => s.inflight.length === 0) && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private readonly timedOut = new WeakSet<PoolCall>();

  private isTimedOut(call: PoolCall): boolean {
    return this.timedOut.has(call);
  }

  private timeOut(slot: Slot, batch: Batch, call: PoolCall, startedAt: number): void {
    slot.stopping.add(call);
    this.timedOut.add(call);
    this.counters.timedOut++;
    const job = batch.q.task.job;
    const seconds = job.timeoutMs / 1000;
    this.report(
      batch,
      call,
      {
        kind: 'timeout',
        name: 'TimeoutError',
        message: `call ${call.callId} of job ${job.jobId} exceeded its timeout of ${seconds} s; its worker was stopped`,
      },
      startedAt,
    );
    this.sendTo(slot, { t: 'abort', callId: call.callId, jobId: job.jobId, reason: `timeout after ${seconds} s` });
    slot.killAt = Date.now() + (this.options.killGraceSeconds ?? 1) * 1000;
  }

  private report(batch: Batch, call: PoolCall, error: SerializedError, fnStart: number): void {
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

  /**
   * A process ended. Calls with a result were delivered already; the one that started without a
   * result is blamed (at most once: never run again unless the caller retries it); the ones that never
   * started are re-queued with their attempt unchanged.
   */
  private onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    this.slots.delete(slot);
    if (this.closed) return;
    const requeue = new Map<QueuedTask, PoolCall[]>();
    let crashed = false;
    for (const batch of slot.inflight) {
      const q = batch.q;
      for (let i = 0; i < batch.end; i++) {
        const call = batch.calls[i] as PoolCall;
        if (batch.done[i] || slot.stopping.has(call) || q.cancelled || q.cancelledCalls.has(call.callId)) continue;
        if (i < batch.started) {
          crashed = true;
          const startedAt =
            slot.current?.batch === batch && slot.current.index === i ? slot.current.startedAt : Date.now();
          this.report(
            batch,
            call,
            crashError(call, q.task.job, code, signal, slot.stderr.text(), slot.child.isolation),
            startedAt,
          );
          continue;
        }
        const list = requeue.get(q) ?? [];
        list.push(call);
        requeue.set(q, list);
      }
    }
    if (crashed) this.counters.crashed++;
    for (const [q, calls] of requeue) this.requeue(q, calls);
    if (!slot.everStarted && slot.inflight.length > 0) this.startupFailures++;
    if (this.startupFailures >= MAX_STARTUP_FAILURES) return this.failEverything(code, signal, slot.stderr.text());
    if (this.queue.some((q) => q.pending.size > 0) || this.slots.size < this.options.size) {
      this.spawn();
      this.timer ??= setInterval(() => this.checkSlots(), CHECK_MS).unref();
    }
    this.pump();
  }

  /** Worker processes die before running anything: fail queued calls instead of respawning forever. */
  private failEverything(code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    for (const q of this.queue.splice(0)) {
      for (const call of q.pending.takeAll()) {
        if (q.cancelled || q.cancelledCalls.has(call.callId)) continue;
        const error: SerializedError = {
          kind: 'crash',
          name: 'WorkerCrashError',
          message: `worker processes exit before running any call (exit code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-5).join('\n')}`,
          exitCode: code,
          signal,
        };
        q.task.onRecord({
          callId: call.callId,
          ok: false,
          error,
          attempt: call.attempt,
          stats: { workerStart: 0, fnStart: 0, fnEnd: 0, cold: true, bytesIn: 0, bytesOut: 0, hostname: '', pid: 0 },
        });
      }
    }
    this.startupFailures = 0;
  }
}

/** The whole record of a plain success: its worker's shared stats come from the slot. */
/** The batch of the worker with this id: nearly always its oldest. */
function batchOf(slot: Slot, id: number): Batch | undefined {
  for (const b of slot.inflight) if (b.id === id) return b;
  return undefined;
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
