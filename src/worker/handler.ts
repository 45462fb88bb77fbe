/**
 * The backend-agnostic worker: given only a storage driver, a job key and call ids, it reads the job
 * from storage, runs the calls in worker processes and writes each call's status (and large outputs)
 * back. `burst worker run` calls this; cluster and serverless backends launch that command.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BurstError, JobNotFoundError, NoSuchBucketError, NoSuchKeyError } from '../errors.js';
import { decode, encode } from '../serialize/index.js';
import { serializeThrown } from '../serialize/errors.js';
import type { StorageDriver } from '../storage/types.js';
import { VERSION } from '../version.js';
import { materializeBundle } from './bundle-file.js';
import { formatCallSpec } from './call-spec.js';
import { keys, parseJobKey } from '../job/layout.js';
import { decodeManifest, MANIFEST_FORMAT, type JobManifest } from '../job/manifest.js';
import { encodeStatus, INLINE_OUTPUT_BYTES } from '../job/status.js';
import { encodeClaim } from '../job/claims.js';
import { ProcessPool } from './pool.js';
import type { CallLocation, CallRecord, PoolCall, PoolJob, SerializedError } from './protocol.js';
import { withPatience } from './patience.js';
import { forgetKept, keptObject, WHOLE_DATA_BYTES } from './job-cache.js';
import { resolveSigningKey, verifyManifest } from '../security/signing.js';
import { userFunctionEnv } from '../security/worker-env.js';

/** What {@link runCalls} needs. */
export interface RunCallsOptions {
  storage: StorageDriver;
  bucket: string;
  jobKey: string;
  callIds: number[];
  /** 1 for a first run; counts retries. */
  attempt: number;
  /** Worker processes to run the calls in. @default 1 */
  workers?: number;
  /** Folder whose node_modules resolves packages left out of the bundle. @default process.cwd() */
  runtimeDir?: string;
  /** Where the platform keeps this invocation's logs; stamped on every call's stats. */
  location?: CallLocation;
  /**
   * Memory the whole invocation may use (a serverless function's size): the worker processes' heaps
   * share it, less headroom for this process, so the platform never kills the invocation before V8
   * reports a call's out-of-memory.
   */
  memoryBudgetMB?: number;
  /**
   * Cancels the run: calls not started yet are not started, running ones see their `ctx.signal` abort
   * (with this signal's reason, else "cancelled by the client") and their processes are stopped after
   * a short grace; every call without a result gets a `cancelled` status. `runCalls` still resolves.
   */
  signal?: AbortSignal;
  /** Run only jobs signed with this key (see security/signing.ts); unset with no $BURST_SIGNING_KEY: no check. @default $BURST_SIGNING_KEY */
  signingKey?: string;
  /**
   * Runs the calls in this process instead of worker processes, for models of the platform
   * (bench/fanout simulates thousands of invocations in one process); resolves with the ids recorded.
   * @default undefined (a process pool)
   */
  runInProcess?: (job: PoolJob, calls: PoolCall[], onRecord: (record: CallRecord) => void) => Promise<Set<number>>;
  /**
   * Keep the job's manifest and small data object in this process for later invocations
   * (job-cache.ts): for platforms that reuse a worker for many invocations of one job (AWS Lambda).
   * Off for `burst worker serve`, which re-reads and re-verifies the manifest on every request.
   * @default false
   */
  keepJob?: boolean;
}

/** What {@link runCalls} resolves with. */
export interface RunCallsResult {
  succeeded: number;
  /** Calls that failed, not counting the cancelled ones. */
  failed: number;
  /** Calls stopped by `signal`; present only when it fired. */
  cancelled?: number;
}

/** This process, its storage client and the worker processes' own overhead, in MB. */
const BUDGET_HEADROOM_MB = 150;
/** How long running calls get to return after their abort signal before their processes are killed. */
const CANCEL_GRACE_MS = 2000;

/** Runs the calls and writes their status; resolves with the counts. Never throws for a call's failure. */
export async function runCalls(o: RunCallsOptions): Promise<RunCallsResult> {
  const workerStart = Date.now();
  let manifest: JobManifest;
  let bundlePath: string;
  let inputs: Map<number, Uint8Array>;
  try {
    manifest = await withPatience(() => readManifest(o));
    const m = manifest;
    // Before any code of the job is fetched: a forged or altered job must never reach import().
    const signingKey = resolveSigningKey(o.signingKey);
    if (signingKey) verifyManifest(signingKey, m, { bucket: o.bucket, jobKey: o.jobKey });
    bundlePath = await withPatience(() =>
      materializeBundle(o.storage, o.bucket, m.functionHash, o.runtimeDir ?? process.cwd()),
    );
    inputs = await withPatience(() => readInputs(o, m));
  } catch (err) {
    // A kept copy of a job that failed to load (deleted, tampered with) is not used again.
    forgetKept(o.storage, o.bucket, [keys.manifest(o.jobKey), keys.data(o.jobKey)]);
    // Without a job there is nothing to run: say why in every call's status so the client never waits.
    const error = serializeThrown(jobDeleted(err, o));
    if (err instanceof BurstError && err.code === 'INTEGRITY') error.kind = 'integrity';
    if (error.properties?.code === 'JOB_DELETED') error.kind = 'storage';
    await Promise.all(
      o.callIds.map((callId) =>
        writeStatus(o, { callId, ok: false, error, attempt: o.attempt, stats: emptyStats(workerStart) }),
      ),
    );
    return { succeeded: 0, failed: o.callIds.length };
  }
  if (o.signal?.aborted) return cancelAll(o, manifest.jobId, o.callIds, workerStart);
  await writeClaim(o);
  const calls: PoolCall[] = [];
  const early: Promise<void>[] = [];
  for (const callId of o.callIds) {
    const bytes = inputs.get(callId) as Uint8Array;
    try {
      calls.push({ callId, attempt: o.attempt, input: decode(bytes, `input of call ${callId}`) });
    } catch (err) {
      early.push(
        writeStatus(o, {
          callId,
          ok: false,
          error: serializeThrown(err),
          attempt: o.attempt,
          stats: emptyStats(workerStart),
        }),
      );
    }
  }
  const args = manifest.args ? decode(Buffer.from(manifest.args, 'base64'), 'extraArgs') : undefined;
  const job: PoolJob = {
    executorId: manifest.executorId,
    jobId: manifest.jobId,
    bundlePath,
    args,
    env: manifest.env,
    timeoutMs: manifest.timeoutSeconds * 1000,
  };
  const counts = { succeeded: 0, failed: o.callIds.length - calls.length, cancelled: 0 };
  const writes: Promise<void>[] = [...early];
  const onRecord = (record: CallRecord): void => {
    record.stats.bytesIn = inputs.get(record.callId)?.length ?? 0;
    // A call that fails once the run is cancelled most likely failed because of it.
    const cancelled = !record.ok && o.signal?.aborted === true;
    if (cancelled) record = { ...record, error: cancelledError(manifest.jobId, record.callId, o.signal, record.error) };
    writes.push(
      storeRecord(o, record).then(
        (ok) => void (ok ? counts.succeeded++ : cancelled ? counts.cancelled++ : counts.failed++),
      ),
    );
  };
  const size = Math.min(o.workers ?? 1, Math.max(1, calls.length), availableParallelism());
  // The backend may give this invocation more memory than the job's (an out-of-memory retry).
  const heapMB = workerHeapMB(
    Number(process.env.BURST_RUNTIME_MEMORY_MB) || manifest.runtimeMemoryMB,
    o.memoryBudgetMB,
    size,
  );
  const recorded = o.runInProcess
    ? await o.runInProcess(job, calls, onRecord)
    : await runInPool(o, { size, ...(heapMB ? { runtimeMemoryMB: heapMB } : {}) }, job, calls, onRecord);
  await Promise.all(writes);
  const unfinished = calls.filter((c) => !recorded.has(c.callId)).map((c) => c.callId);
  if (unfinished.length > 0)
    counts.cancelled += (await cancelAll(o, manifest.jobId, unfinished, workerStart)).cancelled;
  const { cancelled: _cancelled, ...rest } = counts;
  return o.signal?.aborted ? counts : rest;
}

/**
 * Runs the calls in a pool of its own until every call has a record or `o.signal` has fired and the
 * pool has stopped; resolves with the ids of the calls that got a record.
 */
async function runInPool(
  o: RunCallsOptions,
  sizing: { size: number; runtimeMemoryMB?: number },
  job: PoolJob,
  calls: PoolCall[],
  onRecord: (record: CallRecord) => void,
): Promise<Set<number>> {
  const recorded = new Set<number>();
  if (calls.length === 0) return recorded;
  // A cancellable run hands each process one call at a time, so no call waits inside a process
  // (where an abort could not reach it) and a call not started when the signal fires never starts.
  const cancellable = o.signal !== undefined;
  const pool = new ProcessPool({
    ...sizing,
    storage: o.storage.config,
    bucket: o.bucket,
    env: userFunctionEnv(),
    ...(cancellable ? { pipeline: 1 } : {}),
  });
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve) => {
      pool.submit({
        job,
        calls,
        ...(cancellable ? { chunksize: 1 } : {}),
        onRecord: (record) => {
          recorded.add(record.callId);
          onRecord(record);
          if (recorded.size === calls.length) resolve();
        },
      });
      onAbort = () => void pool.abort(abortReason(o.signal), CANCEL_GRACE_MS).then(resolve);
      if (o.signal?.aborted) onAbort();
      else o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  } finally {
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    await pool.close();
  }
  return recorded;
}

/** Writes a `cancelled` status for each call; resolves with the counts. */
async function cancelAll(
  o: RunCallsOptions,
  jobId: string,
  callIds: readonly number[],
  workerStart: number,
): Promise<Required<RunCallsResult>> {
  await Promise.all(
    callIds.map((callId) =>
      writeStatus(o, {
        callId,
        ok: false,
        error: cancelledError(jobId, callId, o.signal),
        attempt: o.attempt,
        stats: emptyStats(workerStart),
      }),
    ),
  );
  return { succeeded: 0, failed: 0, cancelled: callIds.length };
}

/** The `cancelled` error of a call, keeping what the call itself ended with, if anything. */
function cancelledError(
  jobId: string,
  callId: number,
  signal: AbortSignal | undefined,
  ended?: SerializedError,
): SerializedError {
  const how = ended ? ` (it ended with ${ended.name}: ${ended.message})` : '';
  return {
    kind: 'cancelled',
    name: 'CancelledError',
    message: `call ${callId} of job ${jobId} was cancelled: ${abortReason(signal)}${how}`,
  };
}

/** The text of the signal's reason; "cancelled by the client" when it carries none of its own. */
function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  if (typeof reason === 'string' && reason) return reason;
  return 'cancelled by the client';
}

/** Each worker process's heap limit: the job's, within an equal share of the invocation's budget. */
export function workerHeapMB(
  jobMB: number | undefined,
  budgetMB: number | undefined,
  processes: number,
): number | undefined {
  if (!budgetMB) return jobMB;
  const share = Math.max(32, Math.floor((budgetMB - BUDGET_HEADROOM_MB) / processes));
  return jobMB ? Math.min(jobMB, share) : share;
}

async function readManifest(o: RunCallsOptions): Promise<JobManifest> {
  const key = keys.manifest(o.jobKey);
  const read = (): Promise<Uint8Array> => o.storage.get(o.bucket, key);
  const bytes = await (o.keepJob ? keptObject(o.storage, o.bucket, key, read) : read());
  const manifest = decodeManifest(bytes, { bucket: o.bucket, key });
  if (!sameMinor(manifest.burstVersion, VERSION)) {
    throw new BurstError(
      'VERSION_MISMATCH',
      `job ${o.jobKey} was written by burst ${manifest.burstVersion} (format ${manifest.format}) but this worker runs burst ${VERSION} (format ${MANIFEST_FORMAT}); install the client's version of burst on the workers`,
    );
  }
  for (const id of o.callIds) {
    if (!Number.isInteger(id) || id < 0 || id >= manifest.callCount) {
      throw new BurstError(
        'BAD_CALL',
        `call ${id} does not exist in job ${o.jobKey} (it has ${manifest.callCount} calls)`,
      );
    }
  }
  return manifest;
}

/**
 * A missing manifest, data object or function bundle of the job: the job was deleted (by `burst clean
 * --force`), which is not the user's function failing.
 */
function jobDeleted(err: unknown, o: RunCallsOptions): unknown {
  const ours = (key: string | undefined): boolean =>
    key !== undefined && (key.startsWith(keys.jobPrefix(o.jobKey)) || key.startsWith(keys.functionsPrefix));
  if (
    !(err instanceof NoSuchKeyError || err instanceof NoSuchBucketError) ||
    (err instanceof NoSuchKeyError && !ours(err.key))
  )
    return err;
  const { executorId, jobId } = parseJobKey(o.jobKey) ?? { executorId: '', jobId: o.jobKey };
  return new JobNotFoundError(
    `job ${executorId}/${jobId} was deleted from storage (${err.message}) before calls ${formatCallSpec(o.callIds)} could run; was \`burst clean --force\` run while it was running?`,
    { executorId, jobId, bucket: o.bucket, cause: err },
  );
}

function sameMinor(a: string, b: string): boolean {
  return a.split('.').slice(0, 2).join('.') === b.split('.').slice(0, 2).join('.');
}

/** Reads the inputs of the calls with as few ranged GETs as possible (one per contiguous run). */
async function readInputs(o: RunCallsOptions, manifest: JobManifest): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const r = manifest.ranges;
  const total = r.length > 0 ? (r[r.length - 2] as number) + (r[r.length - 1] as number) : 0;
  if (o.keepJob && total > 0 && total <= WHOLE_DATA_BYTES) {
    // A small data object is read whole, once per warm worker (see job-cache.ts).
    const key = keys.data(o.jobKey);
    const all = await keptObject(o.storage, o.bucket, key, () => o.storage.get(o.bucket, key));
    for (const id of o.callIds)
      out.set(id, all.subarray(r[2 * id] as number, (r[2 * id] as number) + (r[2 * id + 1] as number)));
    return out;
  }
  const sorted = [...o.callIds].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const id of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === id - 1) last.push(id);
    else runs.push([id]);
  }
  await Promise.all(
    runs.map(async (run) => {
      const first = run[0] as number;
      const lastId = run[run.length - 1] as number;
      const start = manifest.ranges[2 * first] as number;
      const end = (manifest.ranges[2 * lastId] as number) + (manifest.ranges[2 * lastId + 1] as number);
      const bytes =
        end > start
          ? await o.storage.get(o.bucket, keys.data(o.jobKey), { range: { offset: start, length: end - start } })
          : new Uint8Array(0);
      for (const id of run) {
        const off = (manifest.ranges[2 * id] as number) - start;
        out.set(id, bytes.subarray(off, off + (manifest.ranges[2 * id + 1] as number)));
      }
    }),
  );
  return out;
}

/** Encodes a record's result and writes it; returns whether the call succeeded. */
async function storeRecord(o: RunCallsOptions, record: CallRecord): Promise<boolean> {
  if (record.ok) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = encode(record.value, 'result');
    } catch (err) {
      const error: SerializedError = serializeThrown(err);
      record = { ...record, ok: false, error };
    }
    delete record.value;
    if (bytes) {
      // A streamed result was counted by the worker as it went to storage; its descriptor is tiny.
      if (!record.stats.bytesOut) record.stats.bytesOut = bytes.length;
      if (bytes.length > INLINE_OUTPUT_BYTES) {
        const out = bytes;
        await withPatience(() => o.storage.put(o.bucket, keys.output(o.jobKey, record.callId, record.attempt), out));
        record.outputStored = true;
      } else {
        record.output = bytes;
      }
    }
  }
  await writeStatus(o, record);
  return record.ok;
}

/**
 * Records that this worker took its calls, before running any: a client that attaches to a job whose
 * client died re-runs only calls that no worker claimed, so none runs twice.
 */
async function writeClaim(o: RunCallsOptions): Promise<void> {
  if (o.callIds.length === 0) return;
  const first = o.callIds.reduce((min, id) => Math.min(min, id), Infinity);
  const key = keys.claim(o.jobKey, o.attempt, first, randomBytes(4).toString('hex'));
  await withPatience(() => o.storage.put(o.bucket, key, encodeClaim(o.callIds)));
}

async function writeStatus(o: RunCallsOptions, record: CallRecord): Promise<void> {
  if (o.location) record.stats.location = o.location;
  // The write time travels in the record: summaries and plots then read the same number the client got.
  const body = encodeStatus(record, Date.now());
  // One key per attempt: a stale attempt that writes late never hides a retry's status.
  await withPatience(() => o.storage.put(o.bucket, keys.status(o.jobKey, record.callId, record.attempt), body));
}

function emptyStats(workerStart: number): CallRecord['stats'] {
  return {
    workerStart,
    fnStart: workerStart,
    fnEnd: workerStart,
    cold: true,
    bytesIn: 0,
    bytesOut: 0,
    hostname: '',
    pid: process.pid,
  };
}
