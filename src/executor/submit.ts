/**
 * One submission: package the function, then either hand the calls to the backend's direct channel
 * (localhost IPC) or write the job to storage, invoke the backend and watch storage for results.
 * Records from either path settle the futures; failed calls are retried here, by attempt.
 */
import type { ErrorContext } from '../errors.js';
import { assertSerializable, decode, encode } from '../serialize/index.js';
import type { JobDescriptor } from '../backends/types.js';
import type { Future } from './future.js';
import type { JobControl } from './job-control.js';
import type { ExecutorParts } from './parts.js';
import type { CallRecord, PoolCall, PoolJob } from '../worker/protocol.js';
import { keys } from '../job/layout.js';
import { encodeManifest, MANIFEST_FORMAT, type JobManifest } from '../job/manifest.js';
import { writeBundle } from '../packaging/load.js';
import { VERSION } from '../version.js';
import { reviveResult } from './stored-result.js';
import { resolveSigningKey, signManifest } from '../security/signing.js';
import { asBurstError, settle, type StampedRecord, type SubmitOptions } from './settle.js';
import { markInvoked, registerRerun, storageRerunner, type Rerunner } from './rerun.js';

/** Prefix of a job id: M for map, R for reduce, A for callAsync. */
export type JobKind = 'M' | 'R' | 'A';

export type { SubmitOptions } from './settle.js';

/** Submits one job whose futures are already made; resolves once the calls are handed to the backend. */
export async function submitJob(
  parts: ExecutorParts,
  fn: (...a: never[]) => unknown,
  jobId: string,
  inputs: readonly unknown[],
  futures: Future<unknown>[],
  o: SubmitOptions,
  control?: JobControl,
): Promise<void> {
  assertSerializable(inputs, 'input');
  if (inputs.length === 0) return; // nothing to run: no bundle, no job, no workers
  if (o.hasArgs) assertSerializable([o.args], 'extraArgs');
  // Packaging (acorn, eslint-scope, esbuild) loads on first use, so `import 'burst-compute'` stays
  // cheap; the backend's workers start meanwhile (warm), so their boot overlaps packaging.
  const packaging = import('../packaging/index.js');
  const [bundle, ready] = await Promise.all([
    packaging.then((p) => p.packageFunction(fn, { external: parts.options.external })),
    parts.ready().then((p) => (p.backend.warm?.(), p)),
  ]);
  const { backend, storage, monitor } = ready;
  const job: JobDescriptor = {
    executorId: parts.executorId,
    jobId,
    bucket: parts.options.bucket,
    jobKey: keys.job(parts.executorId, jobId),
    storage: storage.config,
    callCount: inputs.length,
    chunksize: o.chunksize ?? 1,
    timeoutSeconds: o.timeout,
    env: o.env,
    ...((o.runtimeMemoryMB ?? parts.options.runtimeMemory)
      ? { runtimeMemoryMB: o.runtimeMemoryMB ?? parts.options.runtimeMemory }
      : {}),
  };
  if (o.oomRetry) o.memoryOf ??= new Map();
  const now = Date.now();
  for (const f of futures) {
    f.stats.invoked = now;
    f._setStatus('invoked');
  }
  // The manifest carries the futures' own times, so calls read back from storage have the same.
  // A loop, not Math.min(...spread): a spread of a million futures overflows the call stack.
  const times = {
    createdAt: now,
    submittedAt: futures.reduce((min, f) => Math.min(min, f.stats.submitted ?? now), now),
  };
  for (const f of futures) f.stats.submitted = times.submittedAt; // one `map` call: one submit time
  const context = { jobId, executorId: parts.executorId, backend: backend.name };

  if (backend.direct) {
    let bundlePath = parts.localBundles.get(bundle.hash);
    if (!bundlePath) {
      bundlePath = await writeBundle(bundle.hash, bundle.code, { runtimeDir: bundle.packageRoot ?? process.cwd() });
      parts.localBundles.set(bundle.hash, bundlePath);
    }
    await writeManifest(parts, job, bundle.hash, bundle.description, [], o, 'ipc', times);
    const poolJob: PoolJob = {
      executorId: parts.executorId,
      jobId,
      bundlePath,
      args: o.args,
      env: o.env,
      timeoutMs: o.timeout * 1000,
    };
    const direct = backend.direct;
    // Runs calls over IPC, settling the futures in `target`; the first run and every re-run alike.
    if (control?.allCancelled) return; // cancelled while it was being packaged: nothing to run
    const runIpc = async (
      calls: Parameters<Rerunner>[0] | PoolCall[],
      target: Parameters<Rerunner>[1] | Future<unknown>[],
      ctl?: JobControl,
    ): Promise<void> => {
      const log = parts.statusWriter(job.jobKey);
      // Attempts other than the first (a re-run) count against retries; a first run needs no map.
      const first = calls.some((c) => c.attempt !== 1) ? new Map(calls.map((c) => [c.callId, c.attempt])) : undefined;
      // The first run passes the futures and its pool calls as they are: no per-call copies (10^6 calls).
      const targetList: Future<unknown>[] = Array.isArray(target) ? target : [];
      if (!Array.isArray(target)) for (const [id, f] of target) targetList[id] = f;
      let left = calls.length;
      const run = (pc: PoolCall[], memoryMB = job.runtimeMemoryMB): void => {
        const cancel = direct.submit(
          { job: poolJob, calls: pc, ...(o.chunksize ? { chunksize: o.chunksize } : {}), onRecord },
          memoryMB ? { runtimeMemoryMB: memoryMB } : {},
        );
        ctl?.attach(cancel);
      };
      const onRecord = (record: CallRecord): void => {
        // The client is where an IPC record lands: its time is the record's write time.
        (record as StampedRecord).storedAt = Date.now();
        log.add(record);
        const wasDone = targetList[record.callId]?.done ?? true;
        const retries = o.retries + (first?.get(record.callId) ?? 1) - 1;
        settle(
          targetList,
          record,
          retries === o.retries ? o : { ...o, retries },
          context,
          () => reviveResult(record.value, storage, () => resultContext(context, record)),
          (callId, attempt, memoryMB) =>
            run([{ callId, attempt, input: inputs[callId] }], memoryMB ?? o.memoryOf?.get(callId)),
        );
        if (!ctl && !wasDone && targetList[record.callId]?.done && --left === 0) parts.releaseStatusWriter(job.jobKey);
      };
      // Cancelled calls settle without a record: release the writer when every future has settled.
      ctl?.onSettled(() => parts.releaseStatusWriter(job.jobKey));
      run(calls.map((c) => ('input' in c ? c : { callId: c.callId, attempt: c.attempt, input: inputs[c.callId] })));
    };
    registerRerun(parts, jobId, async (calls, target) => {
      for (const c of calls) markInvoked(target.get(c.callId), c.attempt);
      await runIpc(calls, target);
    });
    await runIpc(
      inputs.map((input, callId) => ({ callId, attempt: 1, input })),
      futures,
      control,
    );
    return;
  }

  if (!parts.uploaded.has(bundle.hash)) {
    const key = keys.bundle(bundle.hash);
    if (!(await storage.exists(job.bucket, key))) await storage.put(job.bucket, key, bundle.code);
    parts.uploaded.add(bundle.hash);
  }
  await writeJob(parts, job, bundle.hash, bundle.description, inputs, o, times);
  registerRerun(parts, jobId, storageRerunner(parts, job, o));
  const ids = inputs.map((_, i) => i);
  const onRecord = (record: CallRecord): void => {
    const value = (): unknown =>
      reviveResult(decode(record.output ?? new Uint8Array(0), `result of call ${record.callId}`), storage, () =>
        resultContext(context, record),
      );
    settle(futures, record, o, context, value, (callId, attempt, memoryMB) => {
      monitor.expect(job, [callId], attempt, onRecord);
      void backend
        .invoke(memoryMB ? { ...job, runtimeMemoryMB: memoryMB } : job, [callId], attempt)
        .catch((err: unknown) => futures[callId]?._reject(asBurstError(err, context)));
    });
  };
  if (control?.allCancelled) return;
  monitor.expect(job, ids, 1, onRecord);
  // A cancelled call settles on the client at once (its retries are never invoked); a job cancelled
  // or stopped as a whole is no longer watched, and the backend drops what it has not started.
  control?.attach((callIds) => {
    if (callIds !== undefined) return;
    monitor.forget(job.jobKey);
    void backend.cancel(job).catch(() => undefined);
  });
  try {
    await backend.invoke(job, ids, 1);
  } catch (err) {
    monitor.forget(job.jobKey);
    throw err;
  }
}

/** Writes the manifest and the data object (all inputs, one byte range per call). */
async function writeJob(
  parts: ExecutorParts,
  job: JobDescriptor,
  hash: string,
  description: string,
  inputs: readonly unknown[],
  o: SubmitOptions,
  times: ManifestTimes,
): Promise<void> {
  const { storage } = await parts.ready();
  const blobs = inputs.map((input, i) => encode(input, `input[${i}]`));
  const ranges: number[] = [];
  let offset = 0;
  for (const b of blobs) {
    ranges.push(offset, b.length);
    offset += b.length;
  }
  await storage.put(job.bucket, keys.data(job.jobKey), Buffer.concat(blobs));
  await writeManifest(parts, job, hash, description, ranges, o, 'storage', times);
}

/** When the calls were accepted and handed over (epoch ms). */
interface ManifestTimes {
  createdAt: number;
  submittedAt: number;
}

/** Writes the job's manifest; for IPC jobs it records the job without its data. */
async function writeManifest(
  parts: ExecutorParts,
  job: JobDescriptor,
  hash: string,
  description: string,
  ranges: number[],
  o: SubmitOptions,
  channel: 'ipc' | 'storage',
  times: ManifestTimes,
): Promise<void> {
  const { storage } = await parts.ready();
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
    createdAt: times.createdAt,
    submittedAt: times.submittedAt,
    channel,
  };
  // Workers with the same key run only jobs signed with it (security/signing.ts).
  const signingKey = resolveSigningKey(parts.options.raw.signingKey);
  if (signingKey) manifest.signature = signManifest(signingKey, manifest, { bucket: job.bucket, jobKey: job.jobKey });
  await storage.put(job.bucket, keys.manifest(job.jobKey), encodeManifest(manifest));
}

/** The error context of a call's stored result. */
function resultContext(
  context: { jobId: string; executorId: string; backend: string },
  record: CallRecord,
): ErrorContext {
  return { ...context, callId: record.callId, attempt: record.attempt };
}
