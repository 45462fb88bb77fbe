/**
 * The public `s3()` (src/storage/s3/factory.ts) returns a driver that imports the S3 code on its first
 * operation (issue 16). It must be indistinguishable from the driver itself: the shared conformance
 * suite against a real Ceph RADOS Gateway, the same config (what workers re-create it from), bad
 * options rejected at the call, and the optional operations (presign, listBuckets, close) present.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { s3 } from '../../src/storage/index.js';
import { createS3Driver, type S3Options } from '../../src/storage/s3/driver.js';
import { ensureCeph } from '../services.js';
import { dropBucket, uniqueBucket } from './helpers.js';
import { storageConformance } from './suite.js';

const MiB = 1024 * 1024;
const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
const server: S3Options =
  'skip' in ceph
    ? {}
    : {
        endpoint: ceph.endpoint,
        accessKeyId: ceph.accessKeyId,
        secretAccessKey: ceph.secretAccessKey,
        region: ceph.region,
        plainHttpWarning: false,
      };
const small: S3Options = { multipartThreshold: 5 * MiB, partSize: 5 * MiB, downloadPartSize: 1 * MiB };

storageConformance('s3() (driver loaded on first use) on Ceph RGW', () => s3({ ...server, ...small }), { skip });

describe('s3() before and after its driver loads', { skip }, () => {
  it('reports the same name, capabilities and config as the driver it stands for', () => {
    const lazy = s3({ ...server, ...small, maxSockets: 7 });
    const eager = createS3Driver({ ...server, ...small, maxSockets: 7 });
    assert.equal(lazy.name, eager.name);
    assert.deepEqual(lazy.capabilities, eager.capabilities);
    assert.deepEqual(lazy.config, eager.config);
  });

  it('rejects bad options at the call, with ConfigError naming the option', () => {
    assert.throws(
      () => s3({ endpoint: 'ftp://example' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.keyPath, 'endpoint');
        return true;
      },
    );
    assert.throws(() => s3({ accessKeyId: 'only-the-id' }), ConfigError);
  });

  it('closes without loading anything when never used, and delegates the optional operations', async () => {
    await s3(server).close?.();
    const driver = s3(server);
    const bucket = uniqueBucket('lazy-s3');
    try {
      await driver.createBucket(bucket);
      assert.ok((await driver.listBuckets?.())?.includes(bucket), 'listBuckets sees the new bucket');
      await driver.put(bucket, 'k', 'v');
      const url = await driver.presign?.(bucket, 'k', { method: 'GET', expiresSeconds: 60 });
      assert.ok(url !== undefined);
      assert.equal(await (await fetch(url)).text(), 'v');
    } finally {
      await dropBucket(driver, bucket);
      await driver.close?.();
    }
  });
});
