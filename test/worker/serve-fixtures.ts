/**
 * Helpers of the `burst worker serve` tests: the secrets a secured serve process is started with,
 * starting one on loopback with fs storage, raw POSTs, and a job forged straight into storage (a
 * bundle whose code writes a marker file, and a `job.json` naming it) as an attacker who can write
 * the bucket would make it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encode } from '../../src/serialize/index.ts';
import { keys } from '../../src/job/layout.ts';
import { MANIFEST_FORMAT, type JobManifest } from '../../src/job/manifest.ts';
import { VERSION } from '../../src/version.ts';
import { startServe, type ServeProcess } from '../serve-hosts.ts';

export const TOKEN = 'serve-test-token-0123456789';
export const SIGNING_KEY = 'serve-test-signing-key-0123456789abcdef';
export const BUCKET = 'burst';

/** The fs storage configuration of a serve process whose storage is the folder `root`. */
export const fsConfig = (root: string): string => JSON.stringify({ driver: 'fs', options: { root } });

/** A serve process on 127.0.0.1 with a token, a signing key and fs storage under `root` (or what `o` says instead). */
export function startSecured(
  root: string,
  o: { args?: string[]; env?: Record<string, string> } = {},
): Promise<ServeProcess> {
  return startServe({
    addr: '127.0.0.1',
    port: 0,
    args: ['--host', '127.0.0.1', '--storage-config', fsConfig(root), ...(o.args ?? [])],
    env: { BURST_SERVE_TOKEN: TOKEN, BURST_SIGNING_KEY: SIGNING_KEY, ...o.env },
  });
}

/** POSTs `body` (an object, sent as JSON, or raw text) to `<url>/invoke` with the test token. */
export async function invoke(
  url: string,
  body: unknown,
  token: string | undefined = TOKEN,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/invoke`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Writes `bytes` at `key` of bucket `bucket` in the fs storage under `root`. */
async function put(root: string, bucket: string, key: string, bytes: Uint8Array | string): Promise<void> {
  const file = join(root, bucket, key);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

/** The source of a bundle that writes `marker` when it is imported (the attacker's payload). */
export function markerBundle(marker: string): string {
  return `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'the forged bundle ran\\n');\nexport default function forged(x) { return x; }\n`;
}

/** Puts a bundle into storage under its true content hash (so the hash check alone passes); returns the hash. */
export async function plantBundle(root: string, code: string, bucket = BUCKET): Promise<string> {
  const hash = createHash('sha256').update(code).digest('hex');
  await put(root, bucket, keys.bundle(hash), code);
  return hash;
}

/**
 * Forges a one-call job straight into storage: a bundle that writes `marker` and an unsigned
 * `job.json` naming it. Returns the job key.
 */
export async function forgeJob(root: string, marker: string, bucket = BUCKET): Promise<string> {
  const hash = await plantBundle(root, markerBundle(marker), bucket);
  const executorId = `forged-${randomBytes(3).toString('hex')}`;
  const jobKey = keys.job(executorId, 'M000');
  const input = encode(1);
  const manifest: JobManifest = {
    format: MANIFEST_FORMAT,
    burstVersion: VERSION,
    executorId,
    jobId: 'M000',
    callCount: 1,
    functionHash: hash,
    functionName: 'forged',
    ranges: [0, input.length],
    env: {},
    timeoutSeconds: 30,
    createdAt: Date.now(),
    channel: 'storage',
  };
  await put(root, bucket, keys.data(jobKey), input);
  await put(root, bucket, keys.manifest(jobKey), JSON.stringify(manifest));
  return jobKey;
}
