/**
 * One submission: package the function, then either hand the calls to the backend's direct channel
 * (localhost IPC) or write the job to storage, invoke the backend and watch storage for results.
 * Records from either path settle the futures; failed calls are retried here, by attempt.
 */
import type { ErrorContext } from '../errors.js';
import { assertSerializable, decode, encode } from '../serialize/index.js';
import type { JobDescriptor } from '../backends/types.js';
import type { Future } from './future.js';
import { futureAt, jobColumns, listJob, markAllInvoked } from './future-job.js';
import type { JobControl } from './job-control.js';
import type { ExecutorParts } from './parts.js';
import type { FunctionBundle } from '../packaging/index.js';
import { plainCallRecord, type CallRecord, type PoolCall, type PoolJob } from '../worker/protocol.js';
import { keys } from '../job/layout.js';
import { encodeManifest, MANIFEST_FORMAT, type JobManifest } from '../job/manifest.js';
import { writeBundle } from '../packaging/load.js';
import { VERSION } from '../version.js';
import { reviveResult } from './stored-result.js';
import { STORED_RESULT_MARK } from '../worker/stream-result.js';
import { recordValue, type LazyOutputRecord } from './lazy-result.js';
import { resolveSigningKey, signManifest } from '../security/signing.js';
import { settle, type StampedRecord, type SubmitOptions } from './settle.js';
import { asBurstError } from './as-burst-error.js';
import { markInvoked, registerRerun, storageRerunner, type Rerunner } from './rerun.js';
import { callKeys, JobCache } from './cache.js';
import { Speculator } from './speculate.js';
import { storedClaims, storedEnd } from './speculate-claims.js';
import type { PlainSink, PoolCancel } from '../worker/pool-types.js';
import { firstAttempts, type CallList } from '../worker/call-queue.js';

/** Prefix of a job id: M for map, R for reduce, A for callAsync. */
export type JobKind = 'M' | 'R' | 'A';

export type { SubmitOptions } from './settle.js';

/**
 * Local workers get a bundle up to this size (UTF-16 code units) with its job and compare the file
 * with it instead of hashing it; a larger one is hashed, rather than copied to every worker.
 */
const INLINE_BUNDLE_MAX = 1 << 20;

/**
 * Packages `fn` for `parts`' backend. Packaging (acorn, eslint-scope, esbuild) loads on first use, so
 * `import 'burst-compute'` stays cheap; the backend's workers start meanwhile (warm), so their boot
 * overlaps packaging. A caller with set-up of its own starts this first and hands the promise to
 * {@link submitJob}, so that packaging overlaps that set-up too.
 */
export function startPackaging(parts: ExecutorParts, fn: (...a: never[]) => unknown): Promise<FunctionBundle> {
  return import('../packaging/index.js').then((p) => p.packageFunction(fn, { external: parts.options.external }));
}

/** Submits one job whose futures are already made; resolves once the calls are handed to the backend. */
export async function submitJob(
  parts: ExecutorParts,
  fn: (...a: never[]) => unknown,
  jobId: string,
  inputs: readonly unknown[],
  futures: Future<unknown>[],
  o: SubmitOptions,
  control?: JobControl,
  packaged?: Promise<FunctionBundle>,
): Promise<void> {
  assertSerializable(inputs, 'input');
  if (inputs.length === 0) return; // nothing to run: no bundle, no job, no workers
  if (o.hasArgs) assertSerializable([o.args], 'extraArgs');
  const [bundle, ready] = await Promise.all([
    packaged ?? startPackaging(parts, fn),
    // With the cache on, workers start only once a call misses (below): a fully cached map starts none.
    parts.ready().then((p) => (o.cache ? undefined : p.backend.warm?.(), p)),
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
  // The manifest carries the futures' own times, so calls read back from storage have the same.
  // A loop, not Math.min(...spread): a spread of a million futures overflows the call stack.
  let submittedAt = now;
  const cols = jobColumns(futures);
  if (cols) submittedAt = Math.min(now, cols.submitted.earliest() ?? now);
  else for (const f of futures) submittedAt = Math.min(submittedAt, f._statOf('submitted') ?? now);
  const times = { createdAt: now, submittedAt };
  markAllInvoked(futures, now, submittedAt, cols); // one `map` call: one submit time
  const context = { jobId, executorId: parts.executorId, backend: backend.name };
  // The result cache: the client looks every call up before anything is sent (./cache.ts).
  const cache = o.cache
    ? await JobCache.open(parts, storage, job.bucket, bundle.hash, callKeys(bundle.hash, inputs, o, o.cache))
    : undefined;
  if (cache && cache.hits.size < inputs.length) backend.warm?.();
  const settleHit = (callId: number): void => {
    const f = futureAt(futures, callId);
    if (f) f._stat('cached', true);
    settle(
      futures,
      (cache as JobCache).hitRecord(callId),
      o,
      context,
      () => cache?.value(callId),
      () => undefined,
    );
  };

  if (backend.direct) {
    // This machine's workers load the CommonJS twin when there is one (../packaging/bundle.ts).
    const local = bundle.commonjs ?? bundle;
    let bundlePath = parts.localBundles.get(local.hash);
    if (!bundlePath) {
      bundlePath = await writeBundle(local.hash, local.code, {
        runtimeDir: bundle.packageRoot ?? process.cwd(),
        commonjs: local !== bundle,
      });
      parts.localBundles.set(local.hash, bundlePath);
    }
    await writeManifest(parts, job, bundle.hash, bundle.description, [], o, 'ipc', times);
    const poolJob: PoolJob = {
      executorId: parts.executorId,
      jobId,
      bundlePath,
      ...(local.code.length <= INLINE_BUNDLE_MAX ? { bundleCode: local.code } : {}),
      args: o.args,
      env: o.env,
      timeoutMs: o.timeout * 1000,
    };
    const direct = backend.direct;
    // Runs calls over IPC, settling the futures in `target`; the first run and every re-run alike.
    if (control?.allCancelled) return; // cancelled while it was being packaged: nothing to run
    // Each copy of a call has its own cancel, so a speculative backup's loser can be stopped alone.
    const handles = o.speculative ? new Map<string, PoolCancel>() : undefined;
    let spec: Speculator | undefined;
    const runIpc = async (
      calls: Parameters<Rerunner>[0] | PoolCall[] | CallList,
      target: Parameters<Rerunner>[1] | Future<unknown>[],
      ctl?: JobControl,
    ): Promise<void> => {
      const log = parts.statusWriter(job.jobKey);
      // Attempts other than the first (a re-run) count against retries; a first run needs no map.
      const first =
        !('call' in calls) && calls.some((c) => c.attempt !== 1)
          ? new Map(calls.map((c) => [c.callId, c.attempt]))
          : undefined;
      // The first run passes the futures and its pool calls as they are: no per-call copies (10^6 calls).
      const targetList: Future<unknown>[] = Array.isArray(target) ? target : [];
      if (!Array.isArray(target)) for (const [id, f] of target) targetList[id] = f;
      // A map's own list whose futures are not made: plain successes go straight to the job's columns.
      const rows = listJob(targetList);
      let left = calls.length;
      const run = (pc: PoolCall[] | CallList, memoryMB = job.runtimeMemoryMB): void => {
        const cancel = direct.submit(
          {
            job: poolJob,
            calls: pc,
            ...(o.chunksize ? { chunksize: o.chunksize } : {}),
            onRecord,
            onPlain,
            ...(o.startPrimitives ? { primitives: o.startPrimitives } : {}),
          },
          memoryMB ? { runtimeMemoryMB: memoryMB } : {},
        );
        ctl?.attach(cancel);
        if (handles)
          for (let i = 0; i < pc.length; i++) {
            const c = Array.isArray(pc) ? (pc[i] as PoolCall) : (pc as CallList).call(i);
            handles.set(`${c.callId}.${c.attempt}`, cancel);
          }
      };
      const onRecord = (raw: CallRecord): void => {
        const record = spec ? spec.filter(raw) : raw;
        if (!record) return; // a failed copy while the other copy of the call still runs
        // The client is where an IPC record lands: its time is the record's write time.
        (record as StampedRecord).storedAt = Date.now();
        log.add(record);
        const wasDone = futureAt(targetList, record.callId)?.done ?? true;
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
        const settled = futureAt(targetList, record.callId);
        if (cache && record.ok && !wasDone && settled?.status === 'success')
          cache.storeValue(record.callId, record.value);
        if (!ctl && !wasDone && settled?.done && --left === 0) parts.releaseStatusWriter(job.jobKey);
      };
      // A plain success (most calls of a large map) settles without a record object, unless copies
      // are filtered (speculation), results are cached, or the value may be a stored result's marker.
      const onPlain: PlainSink = (callId, attempt, fnStart, fnEnd, bytesOut, value, worker, receivedAt) => {
        if (spec || cache || (typeof value === 'object' && value !== null && STORED_RESULT_MARK in value))
          return onRecord(plainCallRecord(worker, callId, attempt, fnStart, fnEnd, bytesOut, value));
        // The client is where an IPC record lands: received and stored at once.
        log.addPlain(callId, attempt, worker, fnStart, fnEnd, bytesOut, receivedAt);
        if (rows) {
          if (callId >= rows.size || rows.isDone(callId)) return;
          rows.plainSuccess(callId, value, worker, fnStart, fnEnd, bytesOut, receivedAt);
        } else {
          const f = targetList[callId];
          if (!f || f.done) return;
          f._plainSuccess(value, worker, fnStart, fnEnd, bytesOut, receivedAt);
        }
        if (!ctl && --left === 0) parts.releaseStatusWriter(job.jobKey);
      };
      if (ctl && o.speculative) {
        spec = new Speculator(futures, o.speculative, {
          launch: (callId, attempt) => run([{ callId, attempt, input: inputs[callId] }], o.memoryOf?.get(callId)),
          cancel: (callId, attempt) =>
            handles?.get(`${callId}.${attempt}`)?.([callId], 'a speculative copy of the call finished first'),
        });
        spec.start();
      }
      // Cancelled calls settle without a record: release the writer when every future has settled.
      ctl?.onSettled(() => parts.releaseStatusWriter(job.jobKey));
      run(
        'call' in calls
          ? calls
          : calls.map((c) => ('input' in c ? c : { callId: c.callId, attempt: c.attempt, input: inputs[c.callId] })),
      );
    };
    registerRerun(parts, jobId, async (calls, target) => {
      for (const c of calls) markInvoked(target.get(c.callId), c.attempt);
      await runIpc(calls, target);
    });
    if (cache) {
      for (const id of cache.hits.keys()) {
        parts.statusWriter(job.jobKey).add({ ...cache.hitRecord(id), storedAt: Date.now() } as StampedRecord);
        settleHit(id);
      }
      if (cache.hits.size === inputs.length) return parts.releaseStatusWriter(job.jobKey);
    }
    await runIpc(
      cache
        ? cache.misses(inputs.length).map((callId) => ({ callId, attempt: 1, input: inputs[callId] }))
        : firstAttempts(inputs),
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
  if (cache) {
    await cache.writeStatuses(job.jobKey);
    for (const id of cache.hits.keys()) settleHit(id);
  }
  const ids = cache ? cache.misses(inputs.length) : inputs.map((_, i) => i);
  let spec: Speculator | undefined;
  const onRecord = (raw: CallRecord): void => {
    const record: LazyOutputRecord | undefined = spec ? spec.filter(raw) : raw;
    if (!record) return; // a failed copy while the other copy of the call still runs
    const value = (): unknown => recordValue(record, storage, resultContext(context, record));
    const wasDone = futureAt(futures, record.callId)?.done ?? true;
    settle(futures, record, o, context, value, (callId, attempt, memoryMB) => {
      monitor.expect(job, [callId], attempt, onRecord);
      void backend
        .invoke(memoryMB ? { ...job, runtimeMemoryMB: memoryMB } : job, [callId], attempt)
        .catch((err: unknown) => futureAt(futures, callId)?._reject(asBurstError(err, context)));
    });
    if (cache && record.ok && !wasDone && futureAt(futures, record.callId)?.status === 'success')
      storeInCache(cache, record, `result of call ${record.callId}`);
  };
  if (control?.allCancelled || ids.length === 0) return;
  if (o.speculative) spec = storageSpeculator(futures, o, job, ready, onRecord);
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

/**
 * Speculation over storage: a backup is the call's next attempt invoked on the backend; the monitor
 * keeps watching from the original attempt on, so whichever copy writes first is delivered.
 */
function storageSpeculator(
  futures: Future<unknown>[],
  o: SubmitOptions,
  job: JobDescriptor,
  ready: Awaited<ReturnType<ExecutorParts['ready']>>,
  onRecord: (record: CallRecord) => void,
): Speculator {
  const { backend, monitor } = ready;
  const spec = new Speculator(futures, o.speculative as NonNullable<SubmitOptions['speculative']>, {
    launch: (callId, attempt) =>
      void backend.invoke(job, [callId], attempt).catch((err: unknown) =>
        // A backup that could not start is a failed copy: the original decides the call.
        onRecord({
          callId,
          ok: false,
          attempt,
          error: {
            kind: 'crash',
            name: 'WorkerCrashError',
            message: `the speculative backup of call ${callId} could not be started: ${(err as Error)?.message ?? String(err)}`,
          },
          stats: { workerStart: 0, fnStart: 0, fnEnd: 0, cold: false, bytesIn: 0, bytesOut: 0, hostname: '', pid: 0 },
        }),
      ),
    cancel: (callId, attempt) => void backend.cancelCalls?.(job, [callId], attempt).catch(() => undefined),
    rewatch: (callId, attempt) => monitor.expect(job, [callId], attempt, onRecord),
    // Workers' claims say which calls run and since when; a status in storage, that a copy has ended.
    claims: storedClaims(ready.storage, job.bucket, job.jobKey),
    ended: storedEnd(ready.storage, job.bucket, job.jobKey),
  });
  spec.start();
  return spec;
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

/**
 * Keeps a successful result in the cache. A result stored apart from its status record is fetched for
 * it (only when the map asked for `cache`), so large results are cached too.
 */
function storeInCache(cache: JobCache, record: LazyOutputRecord, what: string): void {
  const keep = (body: Uint8Array): void => {
    let raw: unknown;
    try {
      raw = decode(body, what);
    } catch {
      return; // not cacheable; the future reports the decode error itself
    }
    cache.store(record.callId, body, raw);
  };
  if (record.output !== undefined) keep(record.output);
  else void record.loadOutput?.().then(keep, () => undefined);
}
