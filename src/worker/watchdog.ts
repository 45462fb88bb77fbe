/**
 * The process pool's check on running calls (./pool.ts), on a timer while processes hold calls: a
 * call over its timeout is aborted, a process that does not stop in its grace is killed, and one whose
 * call runs long gives back what waits behind it.
 */
import type { PoolCall } from './protocol.js';
import { reportFailure, type Batch, type PoolOptions, type QueuedTask, type Slot } from './pool-types.js';
import { release, unstarted } from './scheduler.js';

/** A call running this long (or twice the job's mean) gives back what waits behind it. */
const SLOW_MS = 50;
const CHECK_MS = 50;

/** Times out calls and kills what overstayed its grace; remembers which stopped calls timed out. */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private readonly timedOut = new WeakSet<PoolCall>();

  /** `slots` and `queue` are the pool's own; `counters` its counters, which this adds to. */
  constructor(
    private readonly slots: ReadonlySet<Slot>,
    private readonly queue: readonly QueuedTask[],
    private readonly counters: { timedOut: number; cancelKills: number },
    private readonly options: PoolOptions,
  ) {}

  /** Checks every {@link CHECK_MS}, unless it does already, until nothing is queued or held. */
  start(): void {
    this.timer ??= setInterval(() => this.checkSlots(), CHECK_MS).unref();
  }

  /** Stops the checks: the pool is closing. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
        if (!slot.releasing && unstarted(slot) > 0) release(slot);
      }
    }
    if (this.queue.length === 0 && [...this.slots].every((s) => s.inflight.length === 0) && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private isTimedOut(call: PoolCall): boolean {
    return this.timedOut.has(call);
  }

  private timeOut(slot: Slot, batch: Batch, call: PoolCall, startedAt: number): void {
    slot.stopping.add(call);
    this.timedOut.add(call);
    this.counters.timedOut++;
    const job = batch.q.task.job;
    const seconds = job.timeoutMs / 1000;
    reportFailure(
      batch,
      call,
      {
        kind: 'timeout',
        name: 'TimeoutError',
        message: `call ${call.callId} of job ${job.jobId} exceeded its timeout of ${seconds} s; its worker was stopped`,
      },
      startedAt,
    );
    slot.child.send({ t: 'abort', callId: call.callId, jobId: job.jobId, reason: `timeout after ${seconds} s` });
    slot.killAt = Date.now() + (this.options.killGraceSeconds ?? 1) * 1000;
  }
}
