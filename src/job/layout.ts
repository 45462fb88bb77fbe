/**
 * Where a job lives in storage: every key of the data plane is built here, and every listed key is
 * parsed back here. Storage is the only contract between the client (which writes jobs) and the
 * workers (which read them), so this file is that contract's map.
 *
 * ```
 * burst/functions/<sha256>.mjs                      function bundle, once per content hash
 * burst/tmp/<name>                                  scratch objects of `burst test`
 * burst/cache/<sha256 of bundle>/<sha256 of call>    result cache entry (executor/cache.ts): a JSON header line
 *                                                   { format: 1, key, size, sha256 } then the encoded result;
 *                                                   written and read by the client only (`cache: true`)
 * burst/jobs/<exec>/lease                           client lease (job/lease.ts): LeaseRecord JSON
 *                                                   { holder, renewedAt, expiresAt }, rewritten every third of
 *                                                   its length while the executor has jobs; deleted on close
 * burst/jobs/<exec>/<job>/job.json                  manifest (job/manifest.ts): JobManifest JSON
 *                                                   { format: 1, burstVersion, executorId, jobId, callCount,
 *                                                   functionHash, functionName, ranges, args?, env,
 *                                                   timeoutSeconds, runtimeMemoryMB?, createdAt, submittedAt?,
 *                                                   channel?, signature? }; `args` (extraArgs) travel inside it
 *                                                   (base64), there is no separate args object
 * burst/jobs/<exec>/<job>/data                      all inputs in one blob; call i is the byte range
 *                                                   ranges[2i], ranges[2i+1] of the manifest (storage channel only)
 * burst/jobs/<exec>/<job>/status/<call>.<attempt>   status record (job/status.ts): StoredStatus JSON
 *                                                   { callId, ok, attempt, stats, error?, logs?, output? (base64,
 *                                                   results up to 64 KiB), outputStored?, storedAt? }; written
 *                                                   last, one per attempt so a stale attempt's late write never
 *                                                   hides a retry's; readers take the newest (newerStatus).
 *                                                   Older workers wrote `status/<call>` (no attempt): still read
 * burst/jobs/<exec>/<job>/output/<call>.<attempt>   a result too large for its status record, or the bytes of a
 *                                                   stream the function returned (serialize/ encoding, or raw
 *                                                   stream bytes); older workers wrote `output/<call>`
 * burst/jobs/<exec>/<job>/claims/<attempt>.<first call>.<nonce>
 *                                                   claim (job/claims.ts): the call list ("0-9,12") a worker
 *                                                   took, written before it runs them: calls no worker claimed
 *                                                   never ran, so `attach({ resubmit })` runs only those
 * burst/jobs/<exec>/<job>/status-batches/<n>[-<nonce>]
 *                                                   IPC (localhost) jobs only: JSON arrays of status records
 *                                                   without results, written in batches (monitor/status-batches.ts)
 * ```
 *
 * `<call>` is the call id zero-padded to five digits (`00007`; ids of 100000 and more are longer), so
 * listings of jobs under 100,000 calls come back in call order; `<attempt>` is 1 for a first run.
 * There are no cancel markers in storage: a cancel reaches workers through their backend.
 */

/** Key prefix of everything Burst stores. */
export const ROOT = 'burst';

const JOBS = `${ROOT}/jobs/`;
const FUNCTIONS = `${ROOT}/functions/`;
const TMP = `${ROOT}/tmp/`;
const CACHE = `${ROOT}/cache/`;

/** Call ids are zero-padded to five digits so listings come back in call order. */
export function pad(callId: number): string {
  return String(callId).padStart(5, '0');
}

/** The key of a job: `burst/jobs/<executorId>/<jobId>`; every object of the job is under it. */
export function jobKey(executorId: string, jobId: string): string {
  return `${JOBS}${executorId}/${jobId}`;
}

/** Keys and listing prefixes of every object Burst stores. */
export const keys = {
  /** Prefix of every job of every executor. */
  jobsPrefix: JOBS,
  /** Prefix of the function bundles. */
  functionsPrefix: FUNCTIONS,
  /** Prefix of the scratch objects of `burst test`. */
  tmpPrefix: TMP,
  tmp: (name: string): string => `${TMP}${name}`,
  /** Prefix of the result cache (`cache: true`); `burst clean --cache` removes it. */
  cachePrefix: CACHE,
  /** Prefix of the cache entries of one function bundle: a code change starts a new one. */
  cacheFunction: (functionHash: string): string => `${CACHE}${functionHash}/`,
  /** One cache entry: the result of the call whose key (executor/cache.ts) is `callKey`. */
  cacheEntry: (functionHash: string, callKey: string): string => `${CACHE}${functionHash}/${callKey}`,
  bundle: (hash: string): string => `${FUNCTIONS}${hash}.mjs`,
  /** Prefix of one executor's jobs (and its lease). */
  executor: (executorId: string): string => `${JOBS}${executorId}/`,
  job: jobKey,
  /** Prefix of every object of a job (`<jobKey>/`). */
  jobPrefix: (jobKey: string): string => `${jobKey}/`,
  lease: (executorId: string): string => `${JOBS}${executorId}/lease`,
  manifest: (jobKey: string): string => `${jobKey}/job.json`,
  data: (jobKey: string): string => `${jobKey}/data`,
  statusPrefix: (jobKey: string): string => `${jobKey}/status/`,
  /** A call's status for one attempt. */
  status: (jobKey: string, callId: number, attempt = 1): string => `${jobKey}/status/${pad(callId)}.${attempt}`,
  /** A call's status in the older layout, without an attempt (`status/<call>`): still read, never written. */
  legacyStatus: (jobKey: string, callId: number): string => `${jobKey}/status/${pad(callId)}`,
  outputPrefix: (jobKey: string): string => `${jobKey}/output/`,
  /** A call's stored result for one attempt. */
  output: (jobKey: string, callId: number, attempt = 1): string => `${jobKey}/output/${pad(callId)}.${attempt}`,
  /** A call's stored result in the older layout, without an attempt (`output/<call>`): still read, never written. */
  legacyOutput: (jobKey: string, callId: number): string => `${jobKey}/output/${pad(callId)}`,
  claimPrefix: (jobKey: string): string => `${jobKey}/claims/`,
  claim: (jobKey: string, attempt: number, firstCall: number, nonce: string): string =>
    `${jobKey}/claims/${attempt}.${pad(firstCall)}.${nonce}`,
  statusBatchPrefix: (jobKey: string): string => `${jobKey}/status-batches/`,
  /** The n-th status batch of one writer of an IPC job; `nonce` keeps a later writer (a re-run) from overwriting it. */
  statusBatch: (jobKey: string, n: number, nonce = ''): string =>
    `${jobKey}/status-batches/${String(n).padStart(6, '0')}${nonce ? `-${nonce}` : ''}`,
};

/** A call's place in a status or output key. */
export interface CallKey {
  callId: number;
  /** Undefined for keys of the older layout (no attempt in the key): the record says. */
  attempt?: number;
}

/** The last segment of a key. */
function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * The call id and attempt of a status or output key (`…/status/00007.2`, or `…/status/00007` of the
 * older layout); undefined when the key's name is not one.
 */
export function parseCallKey(key: string): CallKey | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(baseName(key));
  if (!m) return undefined;
  const callId = Number(m[1]);
  if (!Number.isSafeInteger(callId)) return undefined;
  if (m[2] === undefined) return { callId };
  const attempt = Number(m[2]);
  return Number.isSafeInteger(attempt) && attempt >= 1 ? { callId, attempt } : undefined;
}

/** A claim's place: `claims/<attempt>.<first call>.<nonce>`. */
export interface ClaimKey {
  attempt: number;
  firstCall: number;
  nonce: string;
}

/** The attempt, first call and nonce of a claim key; undefined when the key's name is not one. */
export function parseClaimKey(key: string): ClaimKey | undefined {
  const m = /^(\d+)\.(\d+)\.([^./]*)$/.exec(baseName(key));
  if (!m) return undefined;
  const attempt = Number(m[1]);
  const firstCall = Number(m[2]);
  if (!Number.isSafeInteger(attempt) || attempt < 1 || !Number.isSafeInteger(firstCall)) return undefined;
  return { attempt, firstCall, nonce: m[3] as string };
}

/** A job named by a key. */
export interface JobRef {
  executorId: string;
  jobId: string;
  /** `burst/jobs/<executorId>/<jobId>`. */
  jobKey: string;
}

/**
 * The job a key belongs to: a job key, a listed job prefix (`…/<job>/`) or any key under a job;
 * undefined for keys outside `burst/jobs/<executor>/<job>`.
 */
export function parseJobKey(key: string): JobRef | undefined {
  if (!key.startsWith(JOBS)) return undefined;
  const [executorId, jobId] = key.slice(JOBS.length).split('/');
  if (!executorId || !jobId) return undefined;
  return { executorId, jobId, jobKey: jobKey(executorId, jobId) };
}

/** The executor id of a listed executor prefix (`burst/jobs/<executor>/`) or of any key under it. */
export function parseExecutorKey(key: string): string | undefined {
  if (!key.startsWith(JOBS)) return undefined;
  const executorId = key.slice(JOBS.length).split('/')[0];
  return executorId || undefined;
}

/** A reference with the jobs prefix taken off (`burst/jobs/<exec>/<job>` → `<exec>/<job>`); others unchanged. */
export function withoutJobsPrefix(ref: string): string {
  return ref.startsWith(JOBS) ? ref.slice(JOBS.length) : ref;
}
