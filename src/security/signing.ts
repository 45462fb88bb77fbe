/**
 * Signed jobs: the client signs each job manifest (which names the bundle by its SHA-256) with a key
 * it shares with its workers (HMAC-SHA256), and a worker that has the key refuses a job whose
 * signature is missing or does not match, before it loads any code. Write access to the bucket then
 * no longer means code execution on the workers: a forged or altered `job.json` fails the check, and
 * a swapped bundle fails its content hash, which the signature covers.
 *
 * What it does not cover: the inputs (`data`) and results (`status/`, `output/`) objects, which are
 * data, not code; replaying an old signed job under its own key; secrecy of anything in storage.
 *
 * Shared by the client (executor/submit.ts) and the worker (worker/handler.ts): it imports only
 * node:crypto, the errors and the key layout, so the worker bundle stays free of client code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError, IntegrityError } from '../errors.js';
import { keys } from '../job/layout.js';

/** The environment variable that holds the signing key, on clients and workers. */
export const SIGNING_KEY_ENV = 'BURST_SIGNING_KEY';
/** Shortest key accepted: 16 characters (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_KEY_LENGTH = 16;
/** Tag of the canonical encoding; a new encoding gets a new tag, so old signatures never match it. */
const DOMAIN = 'burst-job-v1';

/** What a signature binds: where the job lives, and its manifest (which names the bundle's hash). */
export interface SignedJobRef {
  bucket: string;
  jobKey: string;
}

/** A manifest as far as signing cares: a JSON object (every field is signed) and its `signature`. */
export interface SignableManifest {
  /** The bundle's SHA-256: signing it is what ties the job to its code. */
  functionHash: string;
  signature?: string;
}

/**
 * The signing key: `explicit` (the `signingKey` option) else `$BURST_SIGNING_KEY`; undefined when
 * neither is set. A set but empty or short key is a {@link ConfigError}, never silently "no key".
 */
export function resolveSigningKey(
  explicit: unknown,
  env: NodeJS.ProcessEnv = process.env,
  keyPath = 'signingKey',
): string | undefined {
  if (explicit !== undefined) return checkKey(explicit, keyPath);
  const fromEnv = env[SIGNING_KEY_ENV];
  return fromEnv === undefined ? undefined : checkKey(fromEnv, SIGNING_KEY_ENV);
}

function checkKey(key: unknown, source: string): string {
  if (typeof key !== 'string' || key.length < MIN_KEY_LENGTH) {
    const got = typeof key === 'string' ? `${key.length} characters` : JSON.stringify(key);
    throw new ConfigError(
      `${source} must be a secret of at least ${MIN_KEY_LENGTH} characters (e.g. from "openssl rand -hex 32"), got ${got}`,
      { keyPath: source },
    );
  }
  return key;
}

/** JSON with object keys sorted at every level: the same manifest always encodes to the same bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes that are signed: the domain tag, the job's place and the manifest without its signature. */
function signedBytes(manifest: SignableManifest, ref: SignedJobRef): string {
  const { signature: _signature, ...rest } = manifest;
  return `${DOMAIN}\n${JSON.stringify(ref.bucket)}\n${JSON.stringify(ref.jobKey)}\n${canonicalJson(rest)}`;
}

/** The signature of a manifest (hex HMAC-SHA256). */
export function signManifest(key: string, manifest: SignableManifest, ref: SignedJobRef): string {
  return createHmac('sha256', key).update(signedBytes(manifest, ref)).digest('hex');
}

/**
 * Checks a manifest's signature; throws an {@link IntegrityError} naming the job when it is missing
 * or wrong. Call it before anything of the job (its bundle) is loaded.
 */
export function verifyManifest(key: string, manifest: SignableManifest, ref: SignedJobRef): void {
  const where = `job ${ref.jobKey} in bucket "${ref.bucket}"`;
  if (typeof manifest.signature !== 'string' || manifest.signature === '') {
    throw new IntegrityError(
      `${where} is not signed, but this worker has a signing key (${SIGNING_KEY_ENV}) and runs only signed jobs: give the client the same signingKey; refusing to run it`,
      { bucket: ref.bucket, key: keys.manifest(ref.jobKey) },
    );
  }
  const expected = Buffer.from(signManifest(key, manifest, ref), 'hex');
  const given = Buffer.from(manifest.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new IntegrityError(
      `${where} has a signature that does not match its contents (altered after signing, or signed with another key); refusing to run it`,
      { bucket: ref.bucket, key: keys.manifest(ref.jobKey) },
    );
  }
}
