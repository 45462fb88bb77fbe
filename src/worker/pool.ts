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
 * Calls go out in batches by ./scheduler.ts; what the workers send back is read by ./intake.ts; calls
 * that run long or past their timeout are seen by ./watchdog.ts. This file starts and ends processes.
 */
import type { PoolCall, SerializedError, ToChild } from './protocol.js';
import { FrameReader } from './frames.js';
import { CancelledError } from '../errors.js';
import { Tail } from './tail.js';
import { spawnWorker } from './worker-handle.js';
import { CallQueue } from './call-queue.js';
import { fillsCores, holdSerialScavenges } from './scavenges.js';
import {
  crashError,
  reportFailure,
  type PoolCancel,
  type PoolOptions,
  type PoolTask,
  type QueuedTask,
  type Slot,
} from './pool-types.js';
import { Scheduler } from './scheduler.js';
import { Intake } from './intake.js';
import { Watchdog } from './watchdog.js';

export type { PoolOptions, PoolTask, PoolCancel } from './pool-types.js';

const MAX_STARTUP_FAILURES = 3;

/** A pool of reusable worker processes, started on first use. */
export class ProcessPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: QueuedTask[] = [];
  private closed = false;
  /** Set by {@link abort}: a process is stopped as soon as it holds no more calls. */
  private aborting = false;
  /** Starts the client's primitives server: from the last task that brought one (see servePrimitives). */
  private primitivesStarter: (() => Promise<void>) | undefined;
  /** Releases this process's serial scavenges: set while a thread pool that fills every core runs. */
  private releaseScavenges: (() => void) | undefined;
  /** Processes started, crashed, timed out, killed after a cancel, and calls given back unstarted. */
  readonly counters = { spawned: 0, crashed: 0, timedOut: 0, cancelKills: 0, released: 0 };
  private readonly scheduler: Scheduler;
  private readonly intake: Intake;
  private readonly watchdog: Watchdog;

  constructor(private readonly options: PoolOptions) {
    this.scheduler = new Scheduler(this.slots, this.queue, options);
    this.intake = new Intake(this.counters, {
      pump: () => this.pump(),
      requeue: (q, calls) => this.requeue(q, calls),
      aborting: () => this.aborting,
      servePrimitives: (slot) => this.servePrimitives(slot),
    });
    this.watchdog = new Watchdog(this.slots, this.queue, this.counters, options);
  }

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
    this.watchdog.stop();
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
    this.watchdog.start();
  }

  private spawn(): void {
    const slot = {} as Slot;
    const child = spawnWorker(
      {
        isolation: this.options.isolation ?? 'process',
        ...(this.options.runtimeMemoryMB ? { runtimeMemoryMB: this.options.runtimeMemoryMB } : {}),
        ...(this.options.env ? { env: this.options.env } : {}),
        ...(fillsCores(this.options.size) ? { serialScavenges: true } : {}),
      },
      this.intake.sinks(slot),
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
    if (!this.closed) this.scheduler.handOut(this.aborting);
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
          reportFailure(
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
    if (!slot.everStarted && slot.inflight.length > 0) this.intake.startupFailures++;
    if (this.intake.startupFailures >= MAX_STARTUP_FAILURES)
      return this.failEverything(code, signal, slot.stderr.text());
    if (this.queue.some((q) => q.pending.size > 0) || this.slots.size < this.options.size) {
      this.spawn();
      this.watchdog.start();
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
    this.intake.startupFailures = 0;
  }
}
