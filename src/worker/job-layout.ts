/**
 * Where a job lives in storage, and its manifest. Shared by the client (which writes jobs) and workers
 * (which read them): storage is the only contract between the two.
 *
 *   burst/functions/<sha256>.mjs             the function bundle, once per content hash
 *   burst/jobs/<exec>/<job>/job.json         the manifest below
 *   burst/jobs/<exec>/<job>/data             all inputs, one byte range per call
 *   burst/jobs/<exec>/<job>/status/<call>    a call's status record (JSON), written last
 *   burst/jobs/<exec>/<job>/output/<call>    a call's result when too large to sit in its status, or
 *                                           the bytes of a stream the function returned (any channel)
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
  createdAt: number;
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
  status: (jobKey: string, callId: number): string => `${jobKey}/status/${pad(callId)}`,
  output: (jobKey: string, callId: number): string => `${jobKey}/output/${pad(callId)}`,
};

/** Call ids are zero-padded to five digits so listings come back in call order. */
export function pad(callId: number): string {
  return String(callId).padStart(5, '0');
}

/** The call id at the end of a status key. */
export function callIdOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf('/') + 1));
}
