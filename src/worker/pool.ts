/**
 * A pool of worker processes (src/worker/child.ts) that runs batches of calls. Used by the localhost
 * backend in the client and by `burst worker run` on remote nodes.
 *
 * A crash, `process.exit` or out-of-memory kills one call, never the caller: the child reports over a
 * side pipe which call it is starting, so the pool blames exactly that call, re-queues the calls the
 * child had not finished, and replaces the process. A call over its timeout is aborted, then killed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { CallRecord, FromChild, PoolCall, PoolJob, SerializedError, ToChild } from './protocol.js';
import type { StorageConfig } from '../storage/types.js';
import { Tail } from './tail.js';
import { holdChild } from './hold.js';

/** Options of {@link ProcessPool}. */
export interface PoolOptions {
  /** Number of worker processes. */
  size: number;
  /** Heap limit of each worker process in MB (`--max-old-space-size`). */
  runtimeMemoryMB?: number;
  /** Storage the workers' `ctx.storage` uses. */
  storage?: StorageConfig;
  bucket?: string;
  /** Environment of the worker processes. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Seconds a timed-out call gets to react to its abort signal before its process is killed. @default 1 */
  killGraceSeconds?: number;
  /**
   * Batches a process holds at once: the one it runs and those queued behind it. 1 leaves nothing
   * queued in a process, so {@link ProcessPool.abort} can keep every call not yet started from starting.
   * @default 2
   */
  pipeline?: number;
}

/** A set of calls submitted to the pool, with where each record goes. */
export interface PoolTask {
  job: PoolJob;
  calls: PoolCall[];
  /** Calls per message to a worker; undefined chooses by guided self-scheduling. */
  chunksize?: number;
  onRecord(record: CallRecord): void;
}

interface QueuedTask {
  task: PoolTask;
  /** Calls not handed out yet: `pending[next]` onwards (a cursor, so taking a batch is O(batch)). */
  pending: PoolCall[];
  next: number;
  cancelled: boolean;
}

interface Batch {
  id: number;
  q: QueuedTask;
  calls: PoolCall[];
  done: boolean[];
  left: number;
  /** Records come back in call order: where the next one is expected. */
  cursor: number;
}

interface Slot {
  child: ChildProcess;
  inflight: Batch[];
  current?: { batch: Batch; index: number; startedAt: number };
  markerRest: Buffer;
  timedOut: Set<Batch['calls'][number]>;
  killAt?: number;
  everStarted: boolean;
  stderr: Tail;
}

const MAX_INFLIGHT = 2;
const MAX_BATCH = 256;
const CHECK_MS = 100;
const MAX_STARTUP_FAILURES = 3;

const childEntry = (() => {
  const url = new URL(import.meta.url.endsWith('.ts') ? './child.ts' : './child.js', import.meta.url);
  return { path: fileURLToPath(url), ts: import.meta.url.endsWith('.ts') };
})();

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
  /** Processes started and crashed so far (for stats and tests). */
  readonly counters = { spawned: 0, crashed: 0, timedOut: 0 };

  constructor(private readonly options: PoolOptions) {}

  /** Queues calls; records arrive through `task.onRecord`. Returns a function that cancels what has not run. */
  submit(task: PoolTask): () => void {
    if (this.closed) throw new Error('the process pool is closed');
    const q: QueuedTask = { task, pending: task.calls.slice(), next: 0, cancelled: false };
    this.queue.push(q);
    this.ensureWorkers();
    this.pump();
    this.holdWhileBusy();
    return () => {
      q.cancelled = true;
      q.pending = [];
      q.next = 0;
      for (const slot of this.slots) {
        if (slot.current && slot.current.batch.q === q) this.sendTo(slot, { t: 'abort', callId: slot.current.batch.calls[slot.current.index]?.callId ?? -1, jobId: task.job.jobId, reason: 'cancelled' });
      }
    };
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
    const exits = [...this.slots].map((slot) => new Promise<void>((resolve) => {
      if (slot.child.exitCode !== null || slot.child.signalCode !== null) return resolve();
      slot.child.once('exit', () => resolve());
      slot.child.kill('SIGKILL');
    }));
    await Promise.all(exits);
    this.slots.clear();
  }

  /**
   * Stops the pool for good, gently: nothing more is handed out, every call a process holds gets its
   * abort signal with `reason`, and each process is killed once its calls have returned or after
   * `graceMs`. Records of calls that return in time are still delivered. Resolves when all have exited.
   */
  async abort(reason: string, graceMs: number): Promise<void> {
    this.closed = true;
    this.holdWhileBusy();
    this.aborting = true;
    this.queue.length = 0;
    const exits = [...this.slots].map((slot) => this.exited(slot));
    for (const slot of this.slots) {
      // Every call the process holds, not only the one the marker names: it may have started since.
      for (const batch of slot.inflight) {
        batch.calls.forEach((call, i) => {
          if (!batch.done[i]) this.sendTo(slot, { t: 'abort', callId: call.callId, jobId: batch.q.task.job.jobId, reason });
        });
      }
      if (slot.inflight.length === 0) slot.child.kill('SIGKILL');
    }
    const grace = setTimeout(() => {
      for (const slot of this.slots) slot.child.kill('SIGKILL');
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
      if (slot.child.exitCode !== null || slot.child.signalCode !== null) return resolve();
      slot.child.once('exit', () => resolve());
    });
  }

  private ensureWorkers(): void {
    while (this.slots.size < this.options.size) this.spawn();
    this.timer ??= setInterval(() => this.checkTimeouts(), CHECK_MS).unref();
  }

  private spawn(): void {
    const execArgv = childEntry.ts ? ['--import', 'tsx'] : [];
    if (this.options.runtimeMemoryMB) execArgv.push(`--max-old-space-size=${this.options.runtimeMemoryMB}`);
    const child = fork(childEntry.path, [], {
      execArgv,
      env: this.options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      serialization: 'advanced',
    });
    this.counters.spawned++;
    const slot: Slot = { child, inflight: [], markerRest: Buffer.alloc(0), timedOut: new Set(), everStarted: false, stderr: new Tail(8192) };
    this.slots.add(slot);
    child.stdout?.on('data', () => {}); // output outside calls is not the user's; drain it
    child.stderr?.on('data', (d: Buffer) => slot.stderr.push(d));
    (child.stdio[4] as Readable | null)?.on('data', (d: Buffer) => this.onMarker(slot, d));
    child.on('message', (msg: FromChild) => this.onMessage(slot, msg));
    child.on('error', () => {}); // 'exit' follows and carries what we need
    // Wait for 'close' (stdio drained), not just 'exit': the last marker may still be in the pipe, and
    // it says which call was running. A grandchild holding the pipes open must not delay us long.
    child.once('exit', (code, signal) => {
      let handled = false;
      const handle = (): void => {
        if (handled) return;
        handled = true;
        this.onExit(slot, code, signal);
      };
      child.once('close', handle);
      setTimeout(handle, 500).unref();
    });
    this.sendTo(slot, { t: 'init', ...(this.options.storage ? { storage: this.options.storage } : {}), ...(this.options.bucket ? { bucket: this.options.bucket } : {}) });
    this.holdWhileBusy(); // a replacement for a crashed process may start while the pool is idle
  }

  private sendTo(slot: Slot, msg: ToChild): void {
    if (slot.child.connected) slot.child.send(msg, (err) => { if (err) slot.child.kill('SIGKILL'); });
  }

  private pump(): void {
    for (const slot of this.slots) {
      // A process being stopped for a timeout gets no more work.
      while (!this.closed && slot.child.connected && slot.killAt === undefined && slot.inflight.length < (this.options.pipeline ?? MAX_INFLIGHT)) {
        const batch = this.nextBatch();
        if (!batch) return;
        slot.inflight.push(batch);
        this.sendTo(slot, { t: 'run', batch: batch.id, job: batch.q.task.job, calls: batch.calls });
      }
    }
  }

  private nextBatch(): Batch | undefined {
    while (this.queue.length > 0) {
      const q = this.queue[0] as QueuedTask;
      if (q.cancelled || q.next >= q.pending.length) {
        this.queue.shift();
        continue;
      }
      const remaining = this.queue.reduce((n, t) => n + t.pending.length - t.next, 0);
      const guided = Math.ceil(remaining / (this.options.size * 4));
      const size = q.task.chunksize ?? Math.max(1, Math.min(MAX_BATCH, guided));
      const calls = q.pending.slice(q.next, q.next + size);
      q.next += calls.length;
      return { id: ++this.batchSeq >>> 0, q, calls, done: new Array<boolean>(calls.length).fill(false), left: calls.length, cursor: 0 };
    }
    return undefined;
  }

  private onMarker(slot: Slot, data: Buffer): void {
    const buf = slot.markerRest.length ? Buffer.concat([slot.markerRest, data]) : data;
    const whole = buf.length - (buf.length % 8);
    slot.markerRest = buf.subarray(whole);
    if (whole === 0) return;
    const batchId = buf.readUInt32LE(whole - 8);
    const index = buf.readUInt32LE(whole - 4);
    const batch = slot.inflight.find((b) => b.id === batchId);
    if (batch) slot.current = { batch, index, startedAt: Date.now() };
    slot.everStarted = true;
    this.startupFailures = 0;
  }

  private onMessage(slot: Slot, msg: FromChild): void {
    if (msg.t !== 'results') return;
    const batch = slot.inflight.find((b) => b.id === msg.batch);
    if (!batch) return;
    for (const record of msg.records) {
      let i = batch.cursor;
      if (batch.calls[i]?.callId !== record.callId || batch.done[i]) i = batch.calls.findIndex((c, j) => !batch.done[j] && c.callId === record.callId);
      if (i < 0) continue;
      batch.cursor = i + 1;
      batch.done[i] = true;
      batch.left--;
      const call = batch.calls[i] as PoolCall;
      if (slot.timedOut.has(call)) {
        // Already reported as a timeout; the process reacted to the abort, so it need not be killed.
        slot.timedOut.delete(call);
        slot.killAt = undefined;
        continue;
      }
      if (!batch.q.cancelled) batch.q.task.onRecord(record);
    }
    if (batch.left === 0) {
      slot.inflight.splice(slot.inflight.indexOf(batch), 1);
      if (this.aborting && slot.inflight.length === 0) slot.child.kill('SIGKILL');
      this.pump();
      this.holdWhileBusy();
    }
  }

  /** Idle worker processes do not keep this process alive (see hold.ts); busy or closing ones do. */
  private holdWhileBusy(): void {
    const busy = this.closed || this.queue.some((q) => !q.cancelled && q.next < q.pending.length) || [...this.slots].some((s) => s.inflight.length > 0);
    for (const slot of this.slots) holdChild(slot.child, busy);
  }

  private checkTimeouts(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      if (slot.killAt !== undefined && now >= slot.killAt) {
        slot.child.kill('SIGKILL');
        continue;
      }
      const cur = slot.current;
      if (!cur || cur.batch.done[cur.index]) continue;
      const call = cur.batch.calls[cur.index] as PoolCall;
      if (slot.timedOut.has(call)) continue;
      const limit = cur.batch.q.task.job.timeoutMs;
      if (now - cur.startedAt <= limit) continue;
      slot.timedOut.add(call);
      this.counters.timedOut++;
      const seconds = limit / 1000;
      this.report(cur.batch, call, { kind: 'timeout', name: 'TimeoutError', message: `call ${call.callId} of job ${cur.batch.q.task.job.jobId} exceeded its timeout of ${seconds} s; its worker was stopped` }, cur.startedAt);
      this.sendTo(slot, { t: 'abort', callId: call.callId, jobId: cur.batch.q.task.job.jobId, reason: `timeout after ${seconds} s` });
      slot.killAt = now + (this.options.killGraceSeconds ?? 1) * 1000;
    }
    if (this.queue.length === 0 && [...this.slots].every((s) => s.inflight.length === 0) && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private report(batch: Batch, call: PoolCall, error: SerializedError, fnStart: number): void {
    if (batch.q.cancelled) return;
    const stats = { workerStart: fnStart, fnStart, fnEnd: Date.now(), cold: false, bytesIn: 0, bytesOut: 0, hostname: '', pid: 0 };
    batch.q.task.onRecord({ callId: call.callId, ok: false, error, attempt: call.attempt, stats });
  }

  private onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    this.slots.delete(slot);
    if (this.closed) return;
    const requeue = new Map<QueuedTask, PoolCall[]>();
    const cur = slot.current;
    let crashed = false;
    for (const batch of slot.inflight) {
      batch.calls.forEach((call, i) => {
        if (batch.done[i]) return;
        if (slot.timedOut.has(call)) return; // reported as a timeout already
        if (cur && cur.batch === batch && cur.index === i) {
          crashed = true;
          this.report(batch, call, crashError(call, batch.q.task.job, code, signal, slot.stderr.text()), cur.startedAt);
          return;
        }
        const list = requeue.get(batch.q) ?? [];
        list.push(call);
        requeue.set(batch.q, list);
      });
    }
    if (crashed) this.counters.crashed++;
    for (const [q, calls] of requeue) {
      if (q.cancelled) continue;
      q.pending = calls.concat(q.pending.slice(q.next));
      q.next = 0;
      // The task may have left the queue when its last calls were handed out: put it back in front.
      if (!this.queue.includes(q)) this.queue.unshift(q);
    }
    if (!slot.everStarted && slot.inflight.length > 0) this.startupFailures++;
    if (this.startupFailures >= MAX_STARTUP_FAILURES) return this.failEverything(code, signal, slot.stderr.text());
    if (this.queue.some((q) => q.next < q.pending.length) || this.slots.size < this.options.size) {
      this.spawn();
      this.pump();
    }
  }

  /** Worker processes die before running anything: fail queued calls instead of respawning forever. */
  private failEverything(code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    for (const q of this.queue.splice(0)) {
      for (const call of q.pending.splice(q.next)) {
        const error: SerializedError = { kind: 'crash', name: 'WorkerCrashError', message: `worker processes exit before running any call (exit code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-5).join('\n')}`, exitCode: code, signal };
        if (!q.cancelled) q.task.onRecord({ callId: call.callId, ok: false, error, attempt: call.attempt, stats: { workerStart: 0, fnStart: 0, fnEnd: 0, cold: true, bytesIn: 0, bytesOut: 0, hostname: '', pid: 0 } });
      }
    }
    this.startupFailures = 0;
  }
}

function crashError(call: PoolCall, job: PoolJob, code: number | null, signal: NodeJS.Signals | null, stderr: string): SerializedError {
  const where = `call ${call.callId} of job ${job.jobId}`;
  if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr)) {
    return { kind: 'oom', name: 'OutOfMemoryError', message: `${where} ran out of memory (the worker's heap limit was reached)`, exitCode: code, signal };
  }
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const detail = stderr.trim() ? `; its stderr ended with:\n${stderr.trim().split('\n').slice(-5).join('\n')}` : '';
  return { kind: 'crash', name: 'WorkerCrashError', message: `the worker process running ${where} ${how}${detail}`, exitCode: code, signal };
}
