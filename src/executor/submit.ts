/**
 * One submission: package the function, then either hand the calls to the backend's direct channel
 * (localhost IPC) or write the job to storage, invoke the backend and watch storage for results.
 * Records from either path settle the futures; failed calls are retried here, by attempt.
 */
import { BurstError, SerializationError, type ErrorContext } from '../errors.js';
import { assertSerializable, decode, encode } from '../serialize/index.js';
import { toBurstError } from '../serialize/errors.js';
import type { JobDescriptor } from '../backends/types.js';
import type { Future } from './future.js';
import type { Runtime } from './runtime.js';
import type { CallRecord, PoolCall, PoolJob } from '../worker/protocol.js';
import { keys, MANIFEST_FORMAT, type JobManifest } from '../worker/job-layout.js';
import { writeBundle } from '../packaging/load.js';
import { VERSION } from '../version.js';
import { reviveResult } from './stored-result.js';

/** Prefix of a job id: M for map, R for reduce, A for callAsync. */
export type JobKind = 'M' | 'R' | 'A';

/** Per-submission settings, resolved against the executor's. */
export interface SubmitOptions {
  timeout: number;
  retries: number;
  env: Record<string, string>;
  hasArgs: boolean;
  args: unknown;
  chunksize?: number;
}

/** Errors that will fail the same way again: never retried. */
const NOT_RETRIED = new Set(['SERIALIZATION', 'PACKAGING', 'INTEGRITY', 'CANCELLED', 'VERSION_MISMATCH']);

/** Submits one job whose futures are already made; resolves once the calls are handed to the backend. */
export async function submitJob(runtime: Runtime, fn: (...a: never[]) => unknown, jobId: string, inputs: readonly unknown[], futures: Future<unknown>[], o: SubmitOptions): Promise<void> {
  assertSerializable(inputs, 'input');
  if (inputs.length === 0) return; // nothing to run: no bundle, no job, no workers
  if (o.hasArgs) assertSerializable([o.args], 'extraArgs');
  // Packaging (acorn, eslint-scope, esbuild) loads on first use, so `import 'burst-compute'` stays
  // cheap; the backend's workers start meanwhile (warm), so their boot overlaps packaging.
  const packaging = import('../packaging/index.js');
  const [bundle, parts] = await Promise.all([packaging.then((p) => p.packageFunction(fn, { external: runtime.options.external })), runtime.ready().then((p) => (p.backend.warm?.(), p))]);
  const { backend, storage, monitor } = parts;
  const job: JobDescriptor = {
    executorId: runtime.executorId,
    jobId,
    bucket: runtime.options.bucket,
    jobKey: keys.job(runtime.executorId, jobId),
    storage: storage.config,
    callCount: inputs.length,
    chunksize: o.chunksize ?? 1,
    timeoutSeconds: o.timeout,
    env: o.env,
    ...(runtime.options.runtimeMemory ? { runtimeMemoryMB: runtime.options.runtimeMemory } : {}),
  };
  const now = Date.now();
  for (const f of futures) {
    f.stats.invoked = now;
    f._setStatus('invoked');
  }
  const context = { jobId, executorId: runtime.executorId, backend: backend.name };

  if (backend.direct) {
    let bundlePath = runtime.localBundles.get(bundle.hash);
    if (!bundlePath) {
      bundlePath = await writeBundle(bundle.hash, bundle.code, { runtimeDir: bundle.packageRoot ?? process.cwd() });
      runtime.localBundles.set(bundle.hash, bundlePath);
    }
    const log = runtime.statusWriter(job.jobKey);
    await writeManifest(runtime, job, bundle.hash, bundle.description, [], o, 'ipc');
    const poolJob: PoolJob = { executorId: runtime.executorId, jobId, bundlePath, args: o.args, env: o.env, timeoutMs: o.timeout * 1000 };
    const direct = backend.direct;
    const run = (calls: PoolCall[]): void => {
      direct.submit({ job: poolJob, calls, ...(o.chunksize ? { chunksize: o.chunksize } : {}), onRecord });
    };
    let left = futures.length;
    const onRecord = (record: CallRecord): void => {
      log.add(record);
      const wasDone = futures[record.callId]?.done ?? true;
      settle(futures, record, o, context, () => reviveResult(record.value, storage, resultContext(context, record)), (callId, attempt) => run([{ callId, attempt, input: inputs[callId] }]));
      if (!wasDone && futures[record.callId]?.done && --left === 0) runtime.releaseStatusWriter(job.jobKey);
    };
    run(inputs.map((input, callId) => ({ callId, attempt: 1, input })));
    return;
  }

  if (!runtime.uploaded.has(bundle.hash)) {
    const key = keys.bundle(bundle.hash);
    if (!(await storage.exists(job.bucket, key))) await storage.put(job.bucket, key, bundle.code);
    runtime.uploaded.add(bundle.hash);
  }
  await writeJob(runtime, job, bundle.hash, bundle.description, inputs, o);
  const ids = inputs.map((_, i) => i);
  const onRecord = (record: CallRecord): void => {
    const value = (): unknown => reviveResult(decode(record.output ?? new Uint8Array(0), `result of call ${record.callId}`), storage, resultContext(context, record));
    settle(futures, record, o, context, value, (callId, attempt) => {
      monitor.expect(job, [callId], attempt, onRecord);
      void backend.invoke(job, [callId], attempt).catch((err: unknown) => futures[callId]?._reject(asBurstError(err, context)));
    });
  };
  monitor.expect(job, ids, 1, onRecord);
  try {
    await backend.invoke(job, ids, 1);
  } catch (err) {
    monitor.forget(job.jobKey);
    throw err;
  }
}

/** Writes the manifest and the data object (all inputs, one byte range per call). */
async function writeJob(runtime: Runtime, job: JobDescriptor, hash: string, description: string, inputs: readonly unknown[], o: SubmitOptions): Promise<void> {
  const { storage } = await runtime.ready();
  const blobs = inputs.map((input, i) => encode(input, `input[${i}]`));
  const ranges: number[] = [];
  let offset = 0;
  for (const b of blobs) {
    ranges.push(offset, b.length);
    offset += b.length;
  }
  await storage.put(job.bucket, keys.data(job.jobKey), Buffer.concat(blobs));
  await writeManifest(runtime, job, hash, description, ranges, o, 'storage');
}

/** Writes the job's manifest; for IPC jobs it records the job without its data. */
async function writeManifest(runtime: Runtime, job: JobDescriptor, hash: string, description: string, ranges: number[], o: SubmitOptions, channel: 'ipc' | 'storage'): Promise<void> {
  const { storage } = await runtime.ready();
  const manifest: JobManifest = {
    format: MANIFEST_FORMAT,
    burstVersion: VERSION,
    executorId: job.executorId,
    jobId: job.jobId,
    callCount: job.callCount,
    functionHash: hash,
    functionName: description,
    ranges,
    env: o.env,
    timeoutSeconds: o.timeout,
    ...(o.hasArgs ? { args: Buffer.from(encode(o.args, 'extraArgs')).toString('base64') } : {}),
    ...(job.runtimeMemoryMB ? { runtimeMemoryMB: job.runtimeMemoryMB } : {}),
    createdAt: Date.now(),
    channel,
  };
  await storage.put(job.bucket, keys.manifest(job.jobKey), JSON.stringify(manifest));
}

/** Applies one record to its future: resolve, reject, or retry. */
function settle(
  futures: Future<unknown>[],
  record: CallRecord,
  o: SubmitOptions,
  context: { jobId: string; executorId: string; backend: string },
  value: () => unknown,
  retry: (callId: number, attempt: number) => void,
): void {
  const f = futures[record.callId];
  if (!f || f.done) return;
  const s = record.stats;
  Object.assign(f.stats, { workerStart: s.workerStart, fnStart: s.fnStart, fnEnd: s.fnEnd, cold: s.cold, bytesIn: s.bytesIn, bytesOut: s.bytesOut, hostname: s.hostname, pid: s.pid, ...(s.location ? { location: s.location } : {}) });
  if (record.ok) {
    try {
      f._resolve(value(), record.logs);
    } catch (err) {
      f._reject(asBurstError(err, { ...context, callId: record.callId }), record.logs);
    }
    return;
  }
  const error = toBurstError(record.error ?? { kind: 'crash', name: 'Error', message: 'the worker reported a failure without an error' }, {
    ...context,
    callId: String(record.callId),
    attempt: record.attempt,
    ...(record.logs ? { logsTail: lastLines(record.logs, 10) } : {}),
    ...(s.location ? { logLocation: s.location.text } : {}),
  });
  if (record.attempt <= o.retries && !NOT_RETRIED.has(error.code)) {
    f._retry(error);
    retry(record.callId, record.attempt + 1);
    return;
  }
  f._reject(error, record.logs);
}

/** The error context of a call's stored result. */
function resultContext(context: { jobId: string; executorId: string; backend: string }, record: CallRecord): ErrorContext {
  return { ...context, callId: String(record.callId), attempt: record.attempt };
}

function asBurstError(err: unknown, context: { jobId: string; executorId: string; backend: string; callId?: number }): BurstError {
  if (err instanceof BurstError) return err;
  const { callId, ...rest } = context;
  return new SerializationError((err as Error)?.message ?? String(err), { ...rest, ...(callId !== undefined ? { callId: String(callId) } : {}), cause: err });
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
