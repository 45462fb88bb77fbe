/**
 * Brings a function bundle from storage to a local file a worker process can import, checking its
 * content hash first: a bundle altered in storage is refused, never run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { bundleCacheDir } from '../packaging/load.js';
import type { StorageDriver } from '../storage/types.js';
import { keys } from './job-layout.js';

/** Returns the path of the bundle `hash` on this host, downloading and verifying it when missing. */
export async function materializeBundle(storage: StorageDriver, bucket: string, hash: string, runtimeDir?: string): Promise<string> {
  const dir = bundleCacheDir(runtimeDir);
  const path = join(dir, `${hash}.mjs`);
  if (await stat(path).then(() => true, () => false)) return path;
  const code = await storage.get(bucket, keys.bundle(hash));
  const actual = createHash('sha256').update(code).digest('hex');
  if (actual !== hash) {
    throw new IntegrityError(`the function bundle ${keys.bundle(hash)} in bucket "${bucket}" was altered after upload (its sha256 is ${actual}); refusing to run it`, { bucket, key: keys.bundle(hash) });
  }
  return writeBundleFile(hash, code, runtimeDir);
}

/**
 * Writes a bundle to the local cache and returns its path. Written beside, then renamed: concurrent
 * workers never import a half-written file.
 */
export async function writeBundleFile(hash: string, code: string | Uint8Array, runtimeDir?: string): Promise<string> {
  const dir = bundleCacheDir(runtimeDir);
  const path = join(dir, `${hash}.mjs`);
  if (await stat(path).then(() => true, () => false)) return path;
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, code);
  await rename(tmp, path);
  return path;
}
