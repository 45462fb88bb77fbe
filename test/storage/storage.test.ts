import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, NoSuchKeyError, StorageError } from '../../src/errors.js';
import { memory } from '../../src/storage/memory/driver.js';
import { Storage } from '../../src/storage/storage.js';
import { rejectsWith } from './helpers.js';

describe('Storage', () => {
  it('takes (bucket, key) or a URI for every operation', async () => {
    const storage = new Storage({ driver: 'memory', buckets: ['b'] });
    assert.equal(storage.driverName, 'memory');
    await storage.put('b', 'x/1.txt', 'one');
    await storage.put('memory://b/x/2.txt', 'two');
    assert.equal(await storage.getText('memory://b/x/1.txt'), 'one');
    assert.equal(await storage.getText('b', 'x/2.txt'), 'two');
    assert.equal(Buffer.from(await storage.get('memory://b/x/2.txt', { range: { offset: 1 } })).toString(), 'wo');
    assert.equal(Buffer.from(await storage.get('b', 'x/2.txt', { range: { offset: 0, length: 1 } })).toString(), 't');
    assert.equal((await storage.head('memory://b/x/1.txt')).size, 3);
    assert.equal(await storage.exists('b', 'x/1.txt'), true);
    assert.equal(await storage.exists('memory://b/x/3.txt'), false);
    assert.deepEqual(await storage.listKeys('memory://b/x/'), ['x/1.txt', 'x/2.txt']);
    assert.deepEqual(await storage.listKeys('b', 'x/', { startAfter: 'x/1.txt' }), ['x/2.txt']);
    await storage.delete('memory://b/x/1.txt');
    await storage.delete('b', 'x/2.txt');
    assert.deepEqual(await storage.listKeys('b'), []);
  });

  it('stores and reads JSON, and names the object when it is not JSON', async () => {
    const storage = new Storage({ driver: 'memory', buckets: ['b'] });
    await storage.putJson('b', 'v.json', { a: [1, 2], s: 'é' });
    await storage.putJson('memory://b/w.json', 'just a string');
    assert.deepEqual(await storage.getJson('memory://b/v.json'), { a: [1, 2], s: 'é' });
    assert.equal(await storage.getJson('b', 'w.json'), 'just a string');
    await storage.put('b', 'bad.json', '{nope');
    const err = await rejectsWith(storage.getJson('b', 'bad.json'), StorageError, ['bad.json', 'not valid JSON']);
    assert.equal((err as StorageError).code, 'INVALID_JSON');
    await rejectsWith(storage.putJson('b', 'u.json', undefined), StorageError, ['u.json']);
  });

  it('deletes a prefix in batches and counts what it deleted', async () => {
    const storage = new Storage({ driver: 'memory', buckets: ['b'] });
    await Promise.all(Array.from({ length: 2500 }, (_, i) => storage.put('b', `tmp/${i}`, '')));
    await storage.put('b', 'keep', '');
    assert.equal(await storage.deletePrefix('memory://b/tmp/'), 2500);
    assert.deepEqual(await storage.listKeys('b'), ['keep']);
    assert.equal(await storage.deletePrefix('b', 'nothing/'), 0);
  });

  it('wraps a driver instance or a driver config', async () => {
    const driver = memory({ id: 'storage-test', buckets: ['b'] });
    await driver.put('b', 'k', 'v');
    const a = new Storage(driver);
    assert.equal(await a.driver(), driver);
    assert.equal(await new Storage(driver.config).getText('b', 'k'), 'v');
    await a.close();
    assert.equal(await a.getText('b', 'k'), 'v', 'closing a Storage leaves a caller-owned driver usable');
  });

  it('reads file:// URIs and plain files from any storage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'burst-storage-'));
    writeFileSync(join(dir, 'in.txt'), 'local data');
    const storage = new Storage({ driver: 'memory' });
    assert.equal(await storage.getText(`file://${dir}/in.txt`), 'local data');
    await storage.put(`file://${dir}/out.txt`, 'written');
    assert.deepEqual(await storage.listKeys(`file://${dir}/`), [
      `${dir.split('/').slice(2).join('/')}/in.txt`,
      `${dir.split('/').slice(2).join('/')}/out.txt`,
    ]);
    await storage.close();
  });

  it('gives a bucket handle with key-only methods, defaulting to defaultBucket', async () => {
    const storage = new Storage({ driver: 'memory', buckets: ['work'], defaultBucket: 'work' });
    const work = storage.bucket();
    assert.equal(work.name, 'work');
    assert.equal(work.uri('a/b'), 'memory://work/a/b');
    await work.putJson('a/b', { n: 1 });
    assert.deepEqual(await work.getJson('a/b'), { n: 1 });
    assert.deepEqual(await work.listKeys(), ['a/b']);
    assert.equal(await work.deletePrefix('a/'), 1);
    await rejectsWith(work.get('a/b'), NoSuchKeyError, ['a/b', 'work']);
    assert.throws(
      () => new Storage({ driver: 'memory' }).bucket(),
      (e) => e instanceof ConfigError && /defaultBucket/.test(e.message),
    );
  });

  it('loads its driver lazily and reports bad settings on first use', async () => {
    const storage = new Storage({ driver: 'nope' });
    assert.equal(storage.driverName, 'nope');
    await rejectsWith(storage.exists('b', 'k'), ConfigError, ['unknown storage driver "nope"']);
    await rejectsWith(new Storage({ driver: 'fs', roott: '/x' }).exists('b', 'k'), ConfigError, ['roott']);
    assert.throws(() => new Storage({ driver: '' }), ConfigError);
  });

  it('still takes the old backend key, with one deprecation warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const old = new Storage({ backend: 'memory', buckets: ['b'] });
      new Storage({ backend: 'memory' });
      assert.equal(old.driverName, 'memory');
      await old.put('b', 'k', 'v');
      assert.equal(await old.getText('b', 'k'), 'v');
      await new Promise((r) => setImmediate(r));
      const ours = warnings.filter((w) => (w as { code?: string }).code === 'BURST_STORAGE_BACKEND');
      assert.equal(ours.length, 1, 'warned once per process');
      assert.throws(
        () => new Storage({ backend: 'memory', driver: 'fs' } as never),
        (e) => e instanceof ConfigError && /both "driver" and "backend"/.test(e.message),
      );
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses presign on drivers that cannot', async () => {
    const storage = new Storage({ driver: 'memory', buckets: ['b'] });
    const err = await rejectsWith(storage.presign('b', 'k'), StorageError, ['memory', 'presign']);
    assert.equal((err as StorageError).code, 'NOT_SUPPORTED');
  });
});
