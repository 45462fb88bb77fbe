/**
 * The process that runs user functions. A pool (the localhost backend in the client, or `burst worker
 * run` on a remote node) forks it and sends batches of calls over IPC; it runs them one at a time.
 *
 * Everything it reports goes to fd 4 (a thread's to a ring in shared memory) as frames written
 * synchronously (./child-report.ts): a call's result before the next call's start marker. So if the
 * worker dies the pool knows exactly which calls finished (it has their results), which one was
 * running, and which never started.
 */
import { deserialize } from 'node:v8';
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { RingWriter, WAKE } from './frame-ring.js';
import { FrameReport } from './child-report.js';
import { hostname } from 'node:os';
import type { CallRecord, FromChild, PoolCall, PoolJob, SerializedError, ToChild } from './protocol.js';
import type { StorageConfig } from '../storage/types.js';
import { serializeThrown } from '../serialize/errors.js';
import { CancelledError, PackagingError } from '../errors.js';
import { loadBundleFile } from '../packaging/load.js';
import { abortCall, createContext, preloadStorage, type CallContext } from './context.js';
import { LogCapture } from './log-capture.js';
import { beforeLocalConnect } from '../primitives/endpoint.js';
import { askPool, poolAnswered } from './primitives-gate.js';
import { toCallInput } from '../partition/reader.js';
import { keys } from '../job/layout.js';
import { hasInputRefs, resolveInput } from './input-refs.js';
import {
  ResultStorageError,
  STORED_RESULT_MARK,
  reachableStorage,
  isStreamedValue,
  storeStreamedResult,
  type MarkedStoredResult,
  type StreamedValue,
} from './stream-result.js';

// Stacks of user errors point at the original .ts lines (bundles carry inline source maps).
process.setSourceMapsEnabled(true);

/** In a worker thread (isolation: 'thread') frames go to a shared-memory ring instead of fd 4. */
const port = isMainThread ? null : parentPort;
const ring = port
  ? new RingWriter((workerData as { ring: SharedArrayBuffer }).ring, () => port.postMessage(WAKE))
  : null;
const YIELD_MS = 2;
const THREAD_YIELD_MS = 50;
let seenMail = 0;
let lastBreath = 0;
const workerStart = isMainThread ? Math.round(performance.timeOrigin) : Date.now();
// On a cluster the scheduler's node name is the useful one (nodes may share a UTS hostname).
const host = process.env.BURST_HOSTNAME || hostname();
// A thread's output between calls goes to its pool as messages: stdout is dropped there (it is not the
// user's), stderr kept for crash reports.
const logs = new LogCapture(
  port
    ? (stream, text) => (stream === 'stderr' ? port.postMessage({ t: 'stderr', text } satisfies FromChild) : undefined)
    : undefined,
);
// The pool's client starts its primitives server when a task first needs it (primitives-gate.ts).
beforeLocalConnect(() => askPool((msg) => (port ? port.postMessage(msg) : process.send?.(msg))));
const report = new FrameReport(ring);
let callsRun = 0;
let storageConfig: StorageConfig | undefined;
let bucket: string | undefined;
/**
 * The context of the call running now, if one is (a worker runs one call at a time: drain() is
 * sequential); an abort finds the call by its ids. A Map entry under a fresh key per call cost a
 * string and a hash-table write for every call.
 */
let running: CallContext | undefined;
/**
 * The last call that returned a plain value synchronously, kept in fields until its record is sent
 * after one microtask turn ({@link runBatch}): no record or stats object for most calls of a large map.
 */
const plain = { callId: 0, attempt: 0, value: undefined as unknown, fnStart: 0, fnEnd: 0 };
/** What {@link runCall} returns when the call's outcome is in {@link plain}. */
const PLAIN = Symbol('plain');
/** A batch this process holds: calls before `next` have started; none at or after `stopAt` will. */
interface Held {
  msg: Extract<ToChild, { t: 'run' }>;
  /** The batch's job, or why it is not known. */
  job: PoolJob | Error;
  next: number;
  stopAt: number;
}
/** The job of the last batch: a batch of the same job names it by id only. */
let lastJob: PoolJob | undefined;
const queue: Held[] = [];
let active: Held | undefined;
/** Calls cancelled by the pool, by job: the reason, for one call or for all of the job's. */
const cancelled = new Map<string, { all?: string; calls: Map<number, string> }>();
let draining = false;
let storageReady: Promise<void> = Promise.resolve();

/** Marks call `index` of the batch as started (with the results before it), synchronously. */
function started(held: Held, index: number): void {
  held.next = index + 1;
  report.started(held.msg.batch, index);
}

async function runBatch(held: Held): Promise<void> {
  const { callIds, attempts, inputs, batch } = held.msg;
  const known = held.job;
  await storageReady;
  if (held.stopAt === 0) return;
  active = held;
  started(held, 0); // a bundle whose top level crashes the process is blamed on the first call
  const job: PoolJob = known instanceof Error ? unknownJob(held.msg) : known;
  const fn =
    known instanceof Error
      ? known
      : await loadBundleFile(job.bundlePath, job.bundleCode).catch((err: unknown) => err as Error);
  const restoreEnv = applyEnv(job.env);
  try {
    for (let i = 0; i < callIds.length && i < held.stopAt; i++) {
      const callId = callIds[i] as number;
      const attempt = typeof attempts === 'number' ? attempts : (attempts[i] as number);
      if (i > 0) {
        if (dueForBreath()) await letMessagesIn();
        if (i >= held.stopAt) break; // given back while we let messages in
        started(held, i);
      }
      const skipped = cancelled.size === 0 ? undefined : cancelledBy(job.jobId, callId);
      if (skipped !== undefined) report.finished(batch, cancelledRecord(job, callId, attempt, skipped));
      else if (typeof fn !== 'function') report.finished(batch, failedLoad(fn, { callId, attempt, input: inputs[i] }));
      else {
        const ran = runCall(fn, job, callId, attempt, inputs[i]);
        if (ran === PLAIN) {
          // One microtask turn, as an `await` of the value would give: what the function left
          // floating for it (a log in a promise's then) still lands in this call's logs.
          await undefined;
          finishPlain(batch);
        } else if (ran instanceof Promise) report.finished(batch, await ran);
        else {
          await undefined; // as above, for a call that threw
          report.finished(batch, recorded(ran));
        }
      }
    }
  } finally {
    active = undefined;
    restoreEnv();
    report.flush();
  }
}

/**
 * Lets pending messages (release, cancel, abort) in between two calls, at most every YIELD_MS:
 * synchronous calls would otherwise run back to back without the event loop ever turning.
 */
async function breathe(): Promise<void> {
  if (dueForBreath()) await letMessagesIn();
}

/** Whether to turn the event loop before the next call, decided without making a promise (mostly it is not). */
function dueForBreath(): boolean {
  const now = performance.now();
  if (ring) {
    // A thread knows when the pool has written to it (a count in shared memory): it turns its event
    // loop for that, or every THREAD_YIELD_MS for timers and I/O, instead of every YIELD_MS.
    const mail = ring.mail();
    if (mail === seenMail && now - lastBreath < THREAD_YIELD_MS) return false;
    seenMail = mail;
    return true;
  }
  return now - lastBreath >= YIELD_MS;
}

async function letMessagesIn(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastBreath = performance.now();
}

/** The reason a call was cancelled before it started, if it was. */
function cancelledBy(jobId: string, callId: number): string | undefined {
  const c = cancelled.get(jobId);
  if (!c) return undefined;
  return c.all ?? c.calls.get(callId);
}

function cancelledRecord(job: PoolJob, callId: number, attempt: number, reason: string): CallRecord {
  const now = Date.now();
  const error: SerializedError = {
    kind: 'cancelled',
    name: 'CancelledError',
    message: `call ${callId} of job ${job.jobId} was cancelled before it started: ${reason}`,
  };
  return { callId, ok: false, error, attempt, stats: stats(now, now, 0, 0) };
}

/** Gives back every call not started yet; the pool re-queues them. */
function release(): void {
  const ranges: Array<{ batch: number; from: number }> = [];
  if (active && active.stopAt > active.next) {
    ranges.push({ batch: active.msg.batch, from: active.next });
    active.stopAt = active.next;
  }
  for (const held of queue.splice(0)) {
    held.stopAt = 0;
    ranges.push({ batch: held.msg.batch, from: 0 });
  }
  report.released(ranges);
}

/** Aborts the running calls that are cancelled and keeps the others from starting. */
function cancel(msg: Extract<ToChild, { t: 'cancel' }>): void {
  let c = cancelled.get(msg.jobId);
  if (!c) cancelled.set(msg.jobId, (c = { calls: new Map() }));
  if (msg.callIds === null) c.all = msg.reason;
  else for (const id of msg.callIds) c.calls.set(id, msg.reason);
  if (running && running.jobId === msg.jobId && (msg.callIds === null || msg.callIds.includes(running.callId)))
    abortCall(running, new CancelledError(msg.reason, { jobId: running.jobId, callId: running.callId }));
}

function failedLoad(err: Error, call: PoolCall): CallRecord {
  const now = Date.now();
  const error = serializeThrown(err);
  error.kind = (err as { code?: string }).code === 'INTEGRITY' ? 'integrity' : 'packaging';
  return { callId: call.callId, ok: false, error, attempt: call.attempt, stats: stats(now, now, 0, 0) };
}

/**
 * Runs one call. A function that returns a plain value (or throws) without a promise gets its record
 * at once, without its captured output, which the caller adds ({@link recorded}) after one microtask
 * turn: the promises of an async runner cost a trivial call more than the call itself (issue 16). A
 * plain value is not even put in a record: it waits in {@link plain} ({@link PLAIN}). Anything else
 * (a promise, a stream to store, an input naming other calls' results) continues in
 * {@link settleCall}, whose record is complete.
 */
function runCall(
  fn: (...a: unknown[]) => unknown,
  job: PoolJob,
  callId: number,
  attempt: number,
  input: unknown,
): typeof PLAIN | CallRecord | Promise<CallRecord> {
  const ctx = createContext(callId, job.jobId, job.executorId, attempt, job.args, storageConfig, bucket);
  running = ctx;
  logs.start();
  const fnStart = Date.now();
  // Inputs naming other calls' results (futures, chained maps) are read from storage first.
  if (hasInputRefs(input)) return settleCall({ readInput: fn }, job, { callId, attempt, input }, ctx, fnStart);
  let value: unknown;
  let rest: Unfinished | undefined;
  try {
    value = fn(toCallInput(input), ctx);
    // Inside the try: a hostile value's `then` or iterator getter throws as an `await` would have.
    const promise = promised(value);
    rest = promise ? { promise } : isStreamedValue(value) ? { stream: value } : undefined;
  } catch (err) {
    running = undefined;
    return failure({ callId, attempt, input }, err, fnStart);
  }
  if (rest) return settleCall(rest, job, { callId, attempt, input }, ctx, fnStart);
  running = undefined;
  plain.callId = callId;
  plain.attempt = attempt;
  plain.value = value;
  plain.fnStart = fnStart;
  plain.fnEnd = Date.now();
  return PLAIN;
}

/** Sends the call waiting in {@link plain}, with what it logged: in a few fixed fields when it can. */
function finishPlain(batch: number): void {
  const { callId, attempt, value, fnStart, fnEnd } = plain;
  plain.value = undefined; // not kept alive until the next call
  const cold = callsRun === 0; // the worker's first call, as stats() tells it
  const captured = logs.stop();
  callsRun++;
  if (!captured && !cold && report.finishedOk(batch, callId, attempt, fnStart, fnEnd, value)) return;
  const record: CallRecord = { callId, ok: true, value, attempt, stats: stats(fnStart, fnEnd, 0, 0) };
  if (cold) record.stats.cold = true;
  if (captured) record.logs = captured;
  report.finished(batch, record);
}

/** `value` as a promise when it is a thenable (its `then` read once, as `await` reads it), else undefined. */
function promised(value: unknown): PromiseLike<unknown> | undefined {
  if (value instanceof Promise) return value;
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const then: unknown = (value as { then?: unknown }).then;
  if (typeof then !== 'function') return undefined;
  return new Promise((resolve, reject) => {
    (then as (this: unknown, ok: (v: unknown) => void, fail: (e: unknown) => void) => void).call(
      value,
      resolve,
      reject,
    );
  });
}

function failure(call: PoolCall, err: unknown, fnStart: number): CallRecord {
  return {
    callId: call.callId,
    ok: false,
    error: errorRecord(err),
    attempt: call.attempt,
    stats: stats(fnStart, Date.now(), 0, 0),
  };
}

/** The call's captured output joins its record, and the call counts as run. */
function recorded(record: CallRecord): CallRecord {
  const captured = logs.stop();
  if (captured) record.logs = captured;
  callsRun++;
  return record;
}

/**
 * What is left of a call that did not finish synchronously: a promise the function returned, a stream
 * it returned (to store), or the whole call when its input must first be read from storage.
 */
type Unfinished =
  | { promise: PromiseLike<unknown> }
  | { stream: StreamedValue }
  | { readInput: (...a: unknown[]) => unknown };

async function settleCall(
  rest: Unfinished,
  job: PoolJob,
  call: PoolCall,
  ctx: CallContext,
  fnStart: number,
): Promise<CallRecord> {
  let record: CallRecord;
  try {
    let value: unknown;
    if ('promise' in rest) value = await rest.promise;
    else if ('stream' in rest) value = rest.stream;
    else {
      const input = await storageReady.then(() => resolveInput(call.input, { ctx, bucket }));
      value = await rest.readInput(toCallInput(input), ctx);
    }
    let bytesOut = 0;
    if (isStreamedValue(value)) {
      const stored = await storeStream(value, job, call, ctx, ctx.signal);
      bytesOut = stored[STORED_RESULT_MARK].size;
      value = stored;
    }
    record = {
      callId: call.callId,
      ok: true,
      value,
      attempt: call.attempt,
      stats: stats(fnStart, Date.now(), 0, bytesOut),
    };
  } catch (err) {
    record = failure(call, err, fnStart);
  } finally {
    running = undefined;
  }
  return recorded(record);
}

/** Streams a returned stream into storage under the call's output key; resolves with its descriptor. */
async function storeStream(
  value: StreamedValue,
  job: PoolJob,
  call: PoolCall,
  ctx: CallContext,
  signal: AbortSignal,
): Promise<MarkedStoredResult> {
  const where = `call ${call.callId} of job ${job.jobId}`;
  const target = reachableStorage(storageConfig, bucket, where);
  await storageReady;
  const key = keys.output(keys.job(job.executorId, job.jobId), call.callId, call.attempt);
  return storeStreamedResult(value, { storage: ctx.storage, ...target, key, where, signal });
}

/** A failure to store a streamed result is the storage's (typed on the client), not the function's. */
function errorRecord(err: unknown): SerializedError {
  // A hostile Proxy's getPrototypeOf trap can throw inside instanceof: that is the user's error, not ours.
  let storageFailure = false;
  try {
    storageFailure = err instanceof ResultStorageError;
  } catch {
    storageFailure = false;
  }
  if (!storageFailure) return serializeThrown(err);
  const failure = err as ResultStorageError;
  const where = {
    ...(failure.bucket !== undefined ? { bucket: failure.bucket } : {}),
    ...(failure.key !== undefined ? { key: failure.key } : {}),
  };
  return {
    kind: 'storage',
    name: 'StorageError',
    message: failure.message,
    properties: { code: failure.code, ...where },
  };
}

function stats(fnStart: number, fnEnd: number, bytesIn: number, bytesOut: number): CallRecord['stats'] {
  const cold = callsRun === 0;
  return port
    ? { workerStart, fnStart, fnEnd, cold, bytesIn, bytesOut, hostname: host, pid: process.pid, threadId }
    : { workerStart, fnStart, fnEnd, cold, bytesIn, bytesOut, hostname: host, pid: process.pid };
}

function applyEnv(env: Record<string, string>): () => void {
  const keys = Object.keys(env);
  if (keys.length === 0) return () => {};
  const saved = keys.map((k) => [k, process.env[k]] as const);
  for (const k of keys) process.env[k] = env[k];
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    for (let held = queue.shift(); held; held = queue.shift()) {
      await runBatch(held);
      await breathe();
    }
  } finally {
    draining = false;
  }
}

/** A stand-in for a job the pool named by an id this worker does not know (never expected: the pool sends a job before naming it). */
function unknownJob(msg: Extract<ToChild, { t: 'run' }>): PoolJob {
  const jobId = typeof msg.job === 'string' ? msg.job : msg.job.jobId;
  return { executorId: '', jobId, bundlePath: '', env: {}, timeoutMs: 0 };
}

function onMessage(msg: ToChild): void {
  if (msg.t === 'run') {
    if (typeof msg.job === 'object') lastJob = msg.job;
    const job =
      lastJob && (typeof msg.job === 'object' || lastJob.jobId === msg.job)
        ? lastJob
        : new PackagingError(`the pool named job ${String(msg.job)} by id, but this worker was never sent that job`, {
            jobId: String(msg.job),
          });
    queue.push({ msg, job, next: 0, stopAt: msg.callIds.length });
    void drain();
  } else if (msg.t === 'release') {
    release();
  } else if (msg.t === 'primitives') {
    poolAnswered(msg);
  } else if (msg.t === 'cancel') {
    cancel(msg);
  } else if (msg.t === 'abort') {
    if (running && running.jobId === msg.jobId && running.callId === msg.callId)
      abortCall(running, new CancelledError(msg.reason, { jobId: msg.jobId, callId: msg.callId }));
  } else if (msg.t === 'init') {
    storageConfig = msg.storage;
    bucket = msg.bucket;
    if (storageConfig) storageReady = preloadStorage().catch(() => undefined);
  }
}
// A thread's pool posts a message as it is when the clone keeps it exact, else in V8's format (worker-handle.ts).
if (port)
  port.on('message', (m: Uint8Array | ToChild) => onMessage(m instanceof Uint8Array ? (deserialize(m) as ToChild) : m));
else process.on('message', onMessage);
// The pool closed the channel: nothing more will come, leave at once.
process.on('disconnect', () => process.exit(0));
