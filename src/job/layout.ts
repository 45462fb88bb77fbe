/**
 * Where a job lives in storage, and its manifest. Shared by the client (which writes jobs) and workers
 * (which read them): storage is the only contract between the two.
 *
 *   burst/functions/<sha256>.mjs             the function bundle, once per content hash
 *   burst/jobs/<exec>/<job>/job.json         the manifest below
 *   burst/jobs/<exec>/<job>/data             all inputs, one byte range per call
 *   burst/jobs/<exec>/<job>/status/<call>.<attempt>  a call's status record (JSON), written last, one
 *                                           per attempt so a late write of a stale attempt never
 *                                           hides a retry's; readers take the newest ({@link newerStatus})
 *   burst/jobs/<exec>/<job>/output/<call>.<attempt>  a call's result when too large to sit in its
 *                                           status, or the bytes of a stream the function returned
 *   burst/jobs/<exec>/<job>/claims/<attempt>.<first call>.<random>  the call ids a worker took, written
 *                                           before it runs them: calls no worker claimed never ran
 *   burst/jobs/<exec>/lease                  the client's lease, renewed while it runs (executor/lease.ts)
 *   burst/jobs/<exec>/<job>/status-batches/<n>  IPC jobs only: status records (no results), in batches
 */

/** Key prefix of everything Burst stores. */
export const ROOT = 'burst';

/** Version of the manifest format; a worker refuses a manifest of another major format. */
export const MANIFEST_FORMAT = 1;

/** Results up to this size travel inside the status record. */
export const INLINE_OUTPUT_BYTES = 64 * 1024;

/** The job as written to storage. */
export interface JobManifest {
  format: number;
  /** The Burst version of the client that wrote the job. */
  burstVersion: string;
  executorId: string;
  jobId: string;
  callCount: number;
  functionHash: string;
  /** Human description of the function, for errors. */
  functionName: string;
  /** Byte ranges of each call's input in the data object: [offset0, length0, offset1, length1, …]. */
  ranges: number[];
  /** The encoded `extraArgs`, base64, when given. */
  args?: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  runtimeMemoryMB?: number;
  /** When the calls were handed to the backend (epoch ms): the calls' `invoked` time. */
  createdAt: number;
  /** When `map` accepted the calls (epoch ms): the calls' `submitted` time. Absent in older jobs. */
  submittedAt?: number;
  /** How the calls travel: through storage (remote backends), or over IPC (localhost; no data object, statuses in `status-batches/`). */
  channel?: 'storage' | 'ipc';
  /** HMAC-SHA256 of the rest of the manifest, when the client has a signing key (security/signing.ts). */
  signature?: string;
}

/** Keys of a bundle and of a job's objects. */
export const keys = {
  bundle: (hash: string): string => `${ROOT}/functions/${hash}.mjs`,
  executor: (executorId: string): string => `${ROOT}/jobs/${executorId}/`,
  job: (executorId: string, jobId: string): string => `${ROOT}/jobs/${executorId}/${jobId}`,
  manifest: (jobKey: string): string => `${jobKey}/job.json`,
  data: (jobKey: string): string => `${jobKey}/data`,
  statusPrefix: (jobKey: string): string => `${jobKey}/status/`,
  /** A call's status for one attempt. Keys of older layouts (`status/<call>`, no attempt) are still read. */
  status: (jobKey: string, callId: number, attempt = 1): string => `${jobKey}/status/${pad(callId)}.${attempt}`,
  output: (jobKey: string, callId: number, attempt = 1): string => `${jobKey}/output/${pad(callId)}.${attempt}`,
  claimPrefix: (jobKey: string): string => `${jobKey}/claims/`,
  claim: (jobKey: string, attempt: number, firstCall: number, nonce: string): string => `${jobKey}/claims/${attempt}.${pad(firstCall)}.${nonce}`,
};

/** Call ids are zero-padded to five digits so listings come back in call order. */
export function pad(callId: number): string {
  return String(callId).padStart(5, '0');
}

/** The call id at the end of a status key (`…/status/00007.2` or the older `…/status/00007`). */
export function callIdOfKey(key: string): number {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.indexOf('.');
  return Number(dot < 0 ? name : name.slice(0, dot));
}

/** The attempt in a status key; undefined for keys of the older layout, whose record says. */
export function attemptOfKey(key: string): number | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.indexOf('.');
  const n = dot < 0 ? NaN : Number(name.slice(dot + 1));
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** What {@link newerStatus} compares: a record's attempt and, when known, when it was written. */
export interface AttemptStamp {
  attempt: number;
  storedAt?: number | undefined;
}

/**
 * Whether `next` supersedes `prev` as a call's status: the higher attempt wins, whatever the order
 * the writes landed in (a stale attempt's worker may write after the retry's); for the same attempt,
 * the later write. Every reader (monitor, attach, `burst jobs`/`logs`/`plot`, the dashboard) picks
 * a call's status with this.
 */
export function newerStatus(prev: AttemptStamp | undefined, next: AttemptStamp): boolean {
  if (!prev) return true;
  if (next.attempt !== prev.attempt) return next.attempt > prev.attempt;
  return (next.storedAt ?? 0) >= (prev.storedAt ?? 0);
}
