/**
 * The job manifest, `burst/jobs/<exec>/<job>/job.json`: what a worker needs to run the job's calls.
 * The client writes it once per job (executor/submit.ts); workers, `attach`, `burst jobs` and the
 * dashboard read it back through {@link decodeManifest}.
 */
import { BurstError } from '../errors.js';
import { VERSION } from '../version.js';
import { field, isIndex, isNumber, isObject, isString, parseObject, type Fields, type RecordSource } from './record.js';

/** Version of the manifest format; a worker refuses a manifest of another major format. */
export const MANIFEST_FORMAT = 1;

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

const WHAT = 'job manifest';

/** The manifest's bytes as stored. */
export function encodeManifest(manifest: JobManifest): string {
  return JSON.stringify(manifest);
}

/**
 * Parses and checks a stored manifest. The object is returned as stored (every field, so a signature
 * over it still verifies).
 * @throws MalformedRecordError naming the key and the field at fault.
 * @throws BurstError with code `VERSION_MISMATCH` for a manifest of another format.
 */
export function decodeManifest(input: Uint8Array | string, source: RecordSource | string): JobManifest {
  const m = parseObject(input, source, WHAT);
  const format = field(m, 'format', isIndex, 'a format number', source, WHAT);
  const burstVersion = field(m, 'burstVersion', isString, 'a version string', source, WHAT);
  if (format !== MANIFEST_FORMAT) {
    const key = typeof source === 'string' ? source : source.key;
    throw new BurstError(
      'VERSION_MISMATCH',
      `${key} was written by burst ${burstVersion} (format ${format}) but this process runs burst ${VERSION} (format ${MANIFEST_FORMAT}); install the client's version of burst on the workers`,
      { key },
    );
  }
  for (const name of ['executorId', 'jobId', 'functionHash', 'functionName'] as const)
    field(m, name, isString, 'a string', source, WHAT);
  field(m, 'callCount', isIndex, 'a non-negative integer', source, WHAT);
  field(m, 'ranges', isRanges, 'an array of byte offsets and lengths', source, WHAT);
  field(m, 'env', isEnv, 'an object of string values', source, WHAT);
  for (const name of ['timeoutSeconds', 'createdAt'] as const) field(m, name, isNumber, 'a number', source, WHAT);
  optional(m, 'args', isString, 'a base64 string', source);
  optional(m, 'runtimeMemoryMB', isNumber, 'a number of MB', source);
  optional(m, 'submittedAt', isNumber, 'a time in epoch ms', source);
  optional(m, 'signature', isString, 'a hex string', source);
  optional(m, 'channel', (v): v is string => v === 'storage' || v === 'ipc', '"storage" or "ipc"', source);
  return m as unknown as JobManifest;
}

/**
 * Only the call count of a stored manifest: what a worker checks a request against before it runs
 * anything (the rest is checked by {@link decodeManifest} when the calls run).
 * @throws MalformedRecordError naming the key.
 */
export function decodeCallCount(input: Uint8Array | string, source: RecordSource | string): number {
  const m = parseObject(input, source, WHAT);
  return field(m, 'callCount', isIndex, 'a non-negative integer', source, WHAT);
}

function optional<T>(
  m: Fields,
  name: string,
  ok: (v: unknown) => v is T,
  expected: string,
  source: RecordSource | string,
): void {
  if (m[name] !== undefined) field(m, name, ok, expected, source, WHAT);
}

function isRanges(v: unknown): v is number[] {
  return Array.isArray(v) && v.length % 2 === 0 && v.every(isIndex);
}

function isEnv(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every(isString);
}
