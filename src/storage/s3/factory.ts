/**
 * `s3()`, the factory users call. Options are checked and settled here, as the driver does, but the
 * driver's code (transfers, downloads, error mapping) is imported on the first request, so importing
 * Burst does not load it (issue 16). The AWS SDK itself loads later still, in the driver.
 */
import { LazyDriver } from '../lazy-driver.js';
import { validateStorageOptions } from '../options.js';
import type { StorageDriver } from '../types.js';
import { resolveS3Settings, s3DriverConfig } from './client.js';
import { s3Capabilities, s3Spec, type S3Options } from './options.js';

/**
 * Creates a driver for AWS S3 or an S3-compatible store.
 *
 * @example
 * ```ts
 * const storage = s3({ endpoint: 'http://127.0.0.1:7480', accessKeyId: 'KEY', secretAccessKey: 'SECRET' });
 * await storage.put('data', 'hello.txt', 'hi');
 * ```
 */
export function s3(options: S3Options = {}): StorageDriver {
  const checked = validateStorageOptions(s3Spec, options);
  // Bad settings throw and plain-http credentials warn here, at the call, as the driver would.
  const config = s3DriverConfig(resolveS3Settings(checked));
  return new LazyDriver('s3', s3Capabilities({}), config, async () =>
    (await import('./driver.js')).createS3Driver({ ...checked, plainHttpWarning: false }),
  );
}
