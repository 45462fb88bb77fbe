/**
 * The process that runs user functions. A pool (the localhost backend in the client, or `burst worker
 * run` on a remote node) forks it and sends batches of calls over IPC; it runs them one at a time and
 * sends back one record per call, batched.
 *
 * Before each call it writes the call's position to fd 4 synchronously, so that if the process dies or
 * hangs the pool knows exactly which call was running, even when earlier results were still buffered.
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { CallRecord, FromChild, PoolCall, PoolJob, SerializedError, ToChild } from './protocol.js';
import type { StorageConfig } from '../storage/types.js';
import { serializeThrown } from '../serialize/errors.js';
import { loadBundleFile } from '../packaging/load.js';
import { createContext, preloadStorage, type CallContext, type CallContextBase } from './context.js';
import { LogCapture } from './log-capture.js';
import { toCallInput } from '../partition/reader.js';
import { keys } from './job-layout.js';
import { ResultStorageError, STORED_RESULT_MARK, reachableStorage, isStreamedValue, storeStreamedResult, type MarkedStoredResult, type StreamedValue } from './stream-result.js';

// Stacks of user errors point at the original .ts lines (bundles carry inline source maps).
process.setSourceMapsEnabled(true);

const MARKER_FD = 4;
const FLUSH_MS = 20;
const workerStart = Math.round(performance.timeOrigin);
// On a cluster the scheduler's node name is the useful one (nodes may share a UTS hostname).
const host = process.env.BURST_HOSTNAME || hostname();
const logs = new LogCapture();
const marker = Buffer.alloc(8);
let markerBroken = false;
let callsRun = 0;
let storageConfig: StorageConfig | undefined;
let bucket: string | undefined;
const running = new Map<string, AbortController>();
const queue: Array<Extract<ToChild, { t: 'run' }>> = [];
let draining = false;
let storageReady: Promise<void> = Promise.resolve();

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
    structuredClone(record.value);
    return record;
  } catch (err) {
    const { value: _dropped, ...rest } = record;
    const error = serializeThrown(err);
    return {
      ...rest,
      ok: false,
      error: { kind: 'serialization', name: 'SerializationError', message: `cannot serialize the result of call ${record.callId}: ${error.message}`, path: 'result' },
    };
  }
}

function writeMarker(batch: number, index: number): void {
  if (markerBroken) return;
  marker.writeUInt32LE(batch >>> 0, 0);
  marker.writeUInt32LE(index >>> 0, 4);
  try {
    writeSync(MARKER_FD, marker);
  } catch {
    markerBroken = true; // started without the marker pipe (e.g. by hand): run anyway
  }
}

async function runBatch(msg: Extract<ToChild, { t: 'run' }>): Promise<void> {
  const { job, calls, batch } = msg;
  await storageReady;
  writeMarker(batch, 0); // a bundle whose top level crashes the process is blamed on the first call
  const fn = await loadBundleFile(job.bundlePath).catch((err: unknown) => err as Error);
  const restoreEnv = applyEnv(job.env);
  let out: CallRecord[] = [];
  let lastFlush = performance.now();
  try {
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i] as PoolCall;
      writeMarker(batch, i);
      out.push(typeof fn === 'function' ? await runCall(fn, job, call) : failedLoad(fn, call));
      const now = performance.now();
      if (now - lastFlush >= FLUSH_MS && i < calls.length - 1) {
        send({ t: 'results', batch, records: out });
        out = [];
        lastFlush = now;
      }
    }
  } finally {
    restoreEnv();
  }
  send({ t: 'results', batch, records: out });
}

function failedLoad(err: Error, call: PoolCall): CallRecord {
  const now = Date.now();
  const error = serializeThrown(err);
  error.kind = (err as { code?: string }).code === 'INTEGRITY' ? 'integrity' : 'packaging';
  return { callId: call.callId, ok: false, error, attempt: call.attempt, stats: stats(now, now, 0, 0) };
}

async function runCall(fn: (...a: unknown[]) => unknown, job: PoolJob, call: PoolCall): Promise<CallRecord> {
  const controller = new AbortController();
  const key = `${job.jobId}/${call.callId}`;
  running.set(key, controller);
  const base: CallContextBase = { callId: call.callId, jobId: job.jobId, executorId: job.executorId, attempt: call.attempt, args: job.args };
  const ctx = createContext(base, controller.signal, storageConfig, bucket);
  logs.start();
  const fnStart = Date.now();
  let record: CallRecord;
  try {
    let value = await fn(toCallInput(call.input), ctx);
    let bytesOut = 0;
    if (isStreamedValue(value)) {
      const stored = await storeStream(value, job, call, ctx, controller.signal);
      bytesOut = stored[STORED_RESULT_MARK].size;
      value = stored;
    }
    record = { callId: call.callId, ok: true, value, attempt: call.attempt, stats: stats(fnStart, Date.now(), 0, bytesOut) };
  } catch (err) {
    record = { callId: call.callId, ok: false, error: errorRecord(err), attempt: call.attempt, stats: stats(fnStart, Date.now(), 0, 0) };
  } finally {
    running.delete(key);
  }
  const captured = logs.stop();
  if (captured) record.logs = captured;
  callsRun++;
  return record;
}

/** Streams a returned stream into storage under the call's output key; resolves with its descriptor. */
async function storeStream(value: StreamedValue, job: PoolJob, call: PoolCall, ctx: CallContext, signal: AbortSignal): Promise<MarkedStoredResult> {
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
  return { kind: 'storage', name: 'StorageError', message: failure.message, properties: { code: failure.code } };
}

function stats(fnStart: number, fnEnd: number, bytesIn: number, bytesOut: number): CallRecord['stats'] {
  return { workerStart, fnStart, fnEnd, cold: callsRun === 0, bytesIn, bytesOut, hostname: host, pid: process.pid };
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
    for (let msg = queue.shift(); msg; msg = queue.shift()) await runBatch(msg);
  } finally {
    draining = false;
  }
}

process.on('message', (msg: ToChild) => {
  if (msg.t === 'run') {
    queue.push(msg);
    void drain();
  } else if (msg.t === 'abort') {
    running.get(`${msg.jobId}/${msg.callId}`)?.abort(new Error(msg.reason));
  } else if (msg.t === 'init') {
    storageConfig = msg.storage;
    bucket = msg.bucket;
    if (storageConfig) storageReady = preloadStorage().catch(() => undefined);
  }
});
// The pool closed the channel: nothing more will come, leave at once.
process.on('disconnect', () => process.exit(0));
