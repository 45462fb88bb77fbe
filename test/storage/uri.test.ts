import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, InvalidKeyError } from '../../src/errors.js';
import { memory } from '../../src/storage/memory/driver.js';
import { formatStorageUri, parseStorageUri, resolveStorageUri } from '../../src/storage/uri.js';
import { rejectsWith } from './helpers.js';

describe('storage URIs', () => {
  it('parses s3:// and fs:// URIs literally (no percent-decoding in keys)', () => {
    assert.deepEqual(parseStorageUri('s3://data/2024/logs.csv'), {
      scheme: 's3',
      bucket: 'data',
      key: '2024/logs.csv',
    });
    assert.deepEqual(parseStorageUri('s3://data'), { scheme: 's3', bucket: 'data', key: '' });
    assert.deepEqual(parseStorageUri('s3://data/'), { scheme: 's3', bucket: 'data', key: '' });
    assert.deepEqual(parseStorageUri('s3://data/logs/'), { scheme: 's3', bucket: 'data', key: 'logs/' });
    assert.deepEqual(parseStorageUri('s3://data/a%20b c+d?e#f'), {
      scheme: 's3',
      bucket: 'data',
      key: 'a%20b c+d?e#f',
    });
    assert.deepEqual(parseStorageUri('S3://data/k'), { scheme: 's3', bucket: 'data', key: 'k' });
    assert.deepEqual(parseStorageUri('fs://burst/jobs/1/data'), { scheme: 'fs', bucket: 'burst', key: 'jobs/1/data' });
  });

  it('maps file:// URLs and plain paths onto a bucket (first folder) and key (the rest)', () => {
    assert.deepEqual(parseStorageUri('file:///home/ana/x.csv'), { scheme: 'file', bucket: 'home', key: 'ana/x.csv' });
    assert.deepEqual(parseStorageUri('file:///home/ana/my%20file.csv'), {
      scheme: 'file',
      bucket: 'home',
      key: 'ana/my file.csv',
    });
    assert.deepEqual(parseStorageUri('file:///data/'), { scheme: 'file', bucket: 'data', key: '' });
    assert.deepEqual(parseStorageUri('file://localhost/data/x'), { scheme: 'file', bucket: 'data', key: 'x' });
    assert.deepEqual(parseStorageUri('/data/logs/'), { scheme: 'file', bucket: 'data', key: 'logs/' });
    assert.deepEqual(parseStorageUri('/data'), { scheme: 'file', bucket: 'data', key: '' });
    const abs = resolve('some/file.txt').split('/');
    assert.deepEqual(parseStorageUri('some/file.txt'), { scheme: 'file', bucket: abs[1], key: abs.slice(2).join('/') });
  });

  it('refuses bad URIs with errors that say what is wrong', () => {
    assert.throws(
      () => parseStorageUri(''),
      (e) => e instanceof ConfigError && /non-empty/.test(e.message),
    );
    assert.throws(
      () => parseStorageUri('s3://'),
      (e) => e instanceof ConfigError && /"s3:\/\/" has no bucket/.test(e.message),
    );
    assert.throws(
      () => parseStorageUri('s3:///key'),
      (e) => e instanceof ConfigError && /has no bucket/.test(e.message),
    );
    assert.throws(() => parseStorageUri('s3://b/a\0b'), InvalidKeyError);
    assert.throws(() => parseStorageUri(`s3://b/${'x'.repeat(1025)}`), InvalidKeyError);
    assert.throws(
      () => parseStorageUri('file://otherhost/x/y'),
      (e) => e instanceof ConfigError && /invalid file URI/.test(e.message),
    );
    assert.throws(
      () => parseStorageUri('/'),
      (e) => e instanceof InvalidKeyError && /below "\/"/.test(e.message),
    );
  });

  it('formats locations back into URIs that parse to the same location', () => {
    const key = fc
      .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
      .filter((k) => !k.includes('\0') && Buffer.byteLength(k) <= 1024);
    fc.assert(
      fc.property(fc.constantFrom('s3', 'fs', 'memory'), key, (scheme, k) => {
        const loc = { scheme, bucket: 'bkt', key: k };
        assert.deepEqual(parseStorageUri(formatStorageUri(loc)), loc);
      }),
    );
    const segment = fc
      .string({ minLength: 1, maxLength: 12, unit: 'grapheme' })
      .filter((s) => !/[/\\\0]/.test(s) && s !== '.' && s !== '..' && !s.startsWith('.burst-tmp-'));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (parts) => {
        const loc = { scheme: 'file', bucket: 'data', key: parts.join('/') };
        assert.deepEqual(parseStorageUri(formatStorageUri(loc)), loc);
      }),
    );
    assert.equal(formatStorageUri({ scheme: 's3', bucket: 'b', key: '' }), 's3://b');
    assert.equal(formatStorageUri({ scheme: 'file', bucket: 'home', key: 'a b/' }), 'file:///home/a%20b/');
  });

  it('resolves URIs to drivers: given instances, fs defaults, file paths, unknown schemes', async () => {
    const mem = memory({ buckets: ['b'] });
    await mem.put('b', 'k', 'from memory');
    const r1 = await resolveStorageUri('memory://b/k', { drivers: { memory: mem } });
    assert.equal(r1.driver, mem);
    assert.equal(Buffer.from(await r1.driver.get(r1.bucket, r1.key)).toString(), 'from memory');

    const root = mkdtempSync(join(tmpdir(), 'burst-uri-'));
    const r2 = await resolveStorageUri('fs://bkt/a/b.txt', { fs: { root } });
    await r2.driver.createBucket(r2.bucket);
    await r2.driver.put(r2.bucket, r2.key, 'in the local store');
    assert.equal(readFileSync(join(root, 'bkt', 'a', 'b.txt'), 'utf8'), 'in the local store');

    const file = join(root, 'plain.txt');
    writeFileSync(file, 'a plain file');
    for (const uri of [file, `file://${file}`]) {
      const r = await resolveStorageUri(uri, { fs: { root: '/ignored' } });
      assert.equal(r.driver.name, 'fs');
      assert.equal(Buffer.from(await r.driver.get(r.bucket, r.key)).toString(), 'a plain file');
    }
    await rejectsWith(resolveStorageUri('gcs://b/k'), ConfigError, ['unknown storage driver "gcs"', 'fs, memory, s3']);
  });
});
