import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { memory } from '../../src/storage/memory/driver.js';
import { createStorage } from '../../src/storage/registry.js';
import { storageConformance } from './suite.js';

storageConformance('memory', () => memory());

describe('memory driver', () => {
  it('shares buckets between instances with the same id (a driver re-created from config)', async () => {
    const a = memory({ id: 'shared-test', buckets: ['b'] });
    await a.put('b', 'k', 'v');
    const again = await createStorage(a.config);
    assert.equal(Buffer.from(await again.get('b', 'k')).toString(), 'v');
    const other = memory({ buckets: ['b'] });
    assert.equal(await other.exists('b', 'k'), false);
    assert.equal(a.capabilities.remote, false);
  });

  it('copies data in and out, so callers may reuse their buffers', async () => {
    const d = memory({ buckets: ['b'] });
    const buf = Buffer.from('abc');
    await d.put('b', 'k', buf);
    buf[0] = 0x7a;
    const out = await d.get('b', 'k');
    out[1] = 0x7a;
    assert.equal(Buffer.from(await d.get('b', 'k')).toString(), 'abc');
  });

  it('validates its options', () => {
    assert.throws(() => memory({ id: '' }), ConfigError);
    assert.throws(
      () => memory({ bucket: ['x'] } as never),
      (e) => e instanceof ConfigError && /unknown memory storage option "bucket"/.test(e.message),
    );
  });
});
