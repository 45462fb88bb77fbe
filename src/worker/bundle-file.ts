/**
 * Brings a function bundle from storage to a local file a worker process can import, checking its
 * content hash first: a bundle altered in storage is refused, never run.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { bundleCacheDir, writeBundle } from '../packaging/load.js';
import type { StorageDriver } from '../storage/types.js';
import { keys } from './job-layout.js';

/** Returns the path of the bundle `hash` on this host, downloading and verifying it when missing. */
export async function materializeBundle(storage: StorageDriver, bucket: string, hash: string, runtimeDir?: string): Promise<string> {
  const path = join(bundleCacheDir(runtimeDir), `${hash}.mjs`);
  if (await stat(path).then(() => true, () => false)) return path;
  const code = await storage.get(bucket, keys.bundle(hash));
  try {
    return await writeBundle(hash, code, runtimeDir === undefined ? {} : { runtimeDir });
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    throw new IntegrityError(`the function bundle ${keys.bundle(hash)} in bucket "${bucket}" was altered after upload (${err.message}); refusing to run it`, { bucket, key: keys.bundle(hash), cause: err });
  }
}
