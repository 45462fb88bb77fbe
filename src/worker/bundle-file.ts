/**
 * Brings a function bundle from storage to a local file a worker process can import, checking its
 * content hash first: a bundle altered in storage is refused, never run, and a cached copy altered on
 * this host is replaced from storage.
 */
import { IntegrityError } from '../errors.js';
import { assertBundleHash, cachedBundle, writeBundle } from '../packaging/load.js';
import type { StorageDriver } from '../storage/types.js';
import { keys } from '../job/layout.js';

/** Returns the path of the bundle `hash` on this host, downloading and verifying it when missing or altered. */
export async function materializeBundle(
  storage: StorageDriver,
  bucket: string,
  hash: string,
  runtimeDir?: string,
): Promise<string> {
  // The hash comes from a job manifest in storage: check its form before it names a file or a key.
  try {
    assertBundleHash(hash);
  } catch (err) {
    const shown = typeof hash === 'string' ? JSON.stringify(hash.slice(0, 100)) : typeof hash;
    throw new IntegrityError(
      `the job's functionHash ${shown} is not a sha256 hex digest (64 lowercase hex digits); refusing to use it as a file name or key`,
      { bucket, cause: err },
    );
  }
  const cached = await cachedBundle(hash, runtimeDir);
  if (cached) return cached;
  const code = await storage.get(bucket, keys.bundle(hash));
  try {
    return await writeBundle(hash, code, runtimeDir === undefined ? {} : { runtimeDir });
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    throw new IntegrityError(
      `the function bundle ${keys.bundle(hash)} in bucket "${bucket}" was altered after upload (${err.message}); refusing to run it`,
      { bucket, key: keys.bundle(hash), cause: err },
    );
  }
}
