import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, InvalidKeyError, NoSuchBucketError } from '../../src/errors.js';
import { fs } from '../../src/storage/fs/driver.js';
import { createStorage } from '../../src/storage/registry.js';
import { listNames, rejectsWith } from './helpers.js';
import { storageConformance } from './suite.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'burst-fs-'));

storageConformance('fs', () => fs({ root: join(scratch(), 'root') }));

describe('fs driver', () => {
  it('refuses keys and buckets that would escape the root, before touching the disk', async () => {
    const base = scratch();
    const root = join(base, 'root');
    mkdirSync(join(base, 'outside'));
    writeFileSync(join(base, 'outside', 'secret'), 'secret');
    const d = fs({ root });
    await d.createBucket('b');
    const keys = [
      '../outside/secret',
      'a/../../outside/secret',
      '..',
      '.',
      'a/..',
      'a/./b',
      './a',
      '/etc/passwd',
      '//x',
      'a//b',
      'a/',
      'a\\..\\..\\outside\\secret',
      '..\\outside',
      'a\0b',
      `${'x'.repeat(256)}/y`,
      'x/'.repeat(600),
      '.burst-tmp-123',
      'a/.burst-tmp-x',
    ];
    for (const key of keys) {
      await rejectsWith(d.put('b', key, 'pwned'), InvalidKeyError);
      await rejectsWith(d.get('b', key), InvalidKeyError);
      await rejectsWith(d.head('b', key), InvalidKeyError);
      await rejectsWith(d.delete('b', [key]), InvalidKeyError);
    }
    for (const bucket of ['..', '.', '../outside', '/abs', 'a\\b', '', 'a/b', '.burst-tmp-1']) {
      await rejectsWith(d.put(bucket, 'secret', 'pwned'), InvalidKeyError);
      await rejectsWith(d.createBucket(bucket), InvalidKeyError);
      await rejectsWith(listNames(d, bucket), InvalidKeyError);
    }
    assert.deepEqual(await listNames(d, 'b', '../outside/'), []);
    assert.deepEqual(readdirSync(join(base, 'outside')), ['secret']);
    assert.deepEqual(readdirSync(root), ['b']);
    assert.deepEqual(readdirSync(join(root, 'b')), []);
  });

  it('issue 14 finding 4: refuses keys whose real path leaves the root through a symbolic link, at any level', async () => {
    const base = scratch();
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(join(outside, 'deep'), { recursive: true });
    writeFileSync(join(outside, 'secret'), 'secret');
    writeFileSync(join(outside, 'deep', 'secret'), 'deep secret');
    const d = fs({ root });
    await d.createBucket('b');
    await d.put('b', 'real/inside.txt', 'inside');
    symlinkSync(outside, join(root, 'b', 'out')); // a folder link one level down
    mkdirSync(join(root, 'b', 'x', 'y'), { recursive: true });
    symlinkSync(outside, join(root, 'b', 'x', 'y', 'z')); // deeper down
    symlinkSync(join(outside, 'secret'), join(root, 'b', 'file-link')); // a file link
    symlinkSync(outside, join(root, 'linked-bucket')); // a whole bucket
    symlinkSync(join(root, 'b', 'real', 'inside.txt'), join(root, 'b', 'ok-link')); // stays inside: fine
    const stream = () => Readable.from([Buffer.from('pwned by stream')]);
    const attacks: Array<[string, string]> = [
      ['b', 'out/secret'],
      ['b', 'out/deep/secret'],
      ['b', 'x/y/z/secret'],
      ['b', 'file-link'],
      ['linked-bucket', 'secret'],
      ['b', 'out/new-file'],
      ['b', 'out/newdir/new-file'],
    ];
    for (const [bucket, key] of attacks) {
      await rejectsWith(d.get(bucket, key), InvalidKeyError, ['real path leaves the storage root']);
      await rejectsWith(d.getStream(bucket, key), InvalidKeyError);
      await rejectsWith(d.head(bucket, key), InvalidKeyError);
      await rejectsWith(d.put(bucket, key, 'pwned'), InvalidKeyError);
      await rejectsWith(d.put(bucket, key, stream()), InvalidKeyError);
      await rejectsWith(d.delete(bucket, [key]), InvalidKeyError);
      assert.equal(await d.exists(bucket, key).catch(() => 'refused'), 'refused');
    }
    assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret');
    assert.equal(readFileSync(join(outside, 'deep', 'secret'), 'utf8'), 'deep secret');
    assert.deepEqual(readdirSync(outside).sort(), ['deep', 'secret']);
    // Listing never shows (or stats) what lies behind the links.
    assert.deepEqual(await listNames(d, 'b'), ['ok-link', 'real/inside.txt']);
    assert.deepEqual(await listNames(d, 'b', 'out/'), []);
    assert.deepEqual(await listNames(d, 'b', 'x/y/z/'), []);
    assert.deepEqual(await listNames(d, 'linked-bucket'), []);
    assert.equal(Buffer.from(await d.get('b', 'ok-link')).toString(), 'inside');
  });

  it('creates its root lazily: never at construction or on reads', async () => {
    const root = join(scratch(), 'not', 'yet');
    const d = fs({ root });
    assert.equal(await d.bucketExists('b'), false);
    await rejectsWith(listNames(d, 'b'), NoSuchBucketError, ['b']);
    await rejectsWith(d.put('b', 'k', 'v'), NoSuchBucketError, ['b']);
    assert.equal(existsSync(root), false);
    await d.createBucket('b');
    assert.equal(existsSync(join(root, 'b')), true);
  });

  it('defaults its root to BURST_FS_ROOT, else ~/.burst/storage', () => {
    const saved = process.env.BURST_FS_ROOT;
    try {
      process.env.BURST_FS_ROOT = '/tmp/burst-env-root';
      assert.equal(fs().config.options.root, '/tmp/burst-env-root');
      delete process.env.BURST_FS_ROOT;
      assert.equal(fs().config.options.root, join(homedir(), '.burst', 'storage'));
    } finally {
      if (saved === undefined) delete process.env.BURST_FS_ROOT;
      else process.env.BURST_FS_ROOT = saved;
    }
  });

  it('is re-created from its config; remote only when shared', async () => {
    const d = fs({ root: scratch() });
    assert.equal(d.capabilities.remote, false);
    assert.equal(fs({ root: scratch(), shared: true }).capabilities.remote, true);
    await d.createBucket('b');
    await d.put('b', 'k', 'same');
    const again = await createStorage(JSON.parse(JSON.stringify(d.config)));
    assert.equal(Buffer.from(await again.get('b', 'k')).toString(), 'same');
  });

  it('reads existing data folders as they are: files are objects, empty folders are nothing', async () => {
    const root = scratch();
    mkdirSync(join(root, 'data', 'logs', '2024'), { recursive: true });
    mkdirSync(join(root, 'data', 'empty', 'deeper'), { recursive: true });
    writeFileSync(join(root, 'data', 'logs', '2024', 'jan.csv'), 'a,b\n');
    writeFileSync(join(root, 'data', 'readme.txt'), 'hi');
    writeFileSync(join(root, 'data', '.burst-tmp-99-abc'), 'half an object');
    symlinkSync(join(root, 'data'), join(root, 'data', 'loop'));
    symlinkSync(join(root, 'data', 'readme.txt'), join(root, 'data', 'link.txt'));
    const d = fs({ root });
    assert.deepEqual(await listNames(d, 'data'), ['link.txt', 'logs/2024/jan.csv', 'readme.txt']);
    assert.deepEqual(await listNames(d, 'data', '', { delimiter: '/' }), ['link.txt', 'P:logs/', 'readme.txt']);
    assert.equal(Buffer.from(await d.get('data', 'logs/2024/jan.csv')).toString(), 'a,b\n');
    assert.equal(Buffer.from(await d.get('data', 'link.txt')).toString(), 'hi');
    assert.equal(await d.exists('data', 'empty'), false);
  });

  it('refuses an object where a folder of objects is, and the reverse', async () => {
    const d = fs({ root: scratch() });
    await d.createBucket('b');
    await d.put('b', 'x/y', '1');
    await rejectsWith(d.put('b', 'x', '2'), InvalidKeyError, ['"x"', 'folder']);
    await d.put('b', 'f', '1');
    await rejectsWith(d.put('b', 'f/g', '2'), InvalidKeyError, ['"f/g"', 'parent']);
    assert.deepEqual(await listNames(d, 'b'), ['f', 'x/y']);
  });

  it('prunes folders a delete leaves empty, and deletes a bucket holding only leftovers', async () => {
    const root = scratch();
    const d = fs({ root });
    await d.createBucket('b');
    await d.put('b', 'p/q/r', '1');
    await d.put('b', 'p/s', '1');
    await d.delete('b', ['p/q/r']);
    assert.deepEqual(readdirSync(join(root, 'b', 'p')), ['s']);
    await d.delete('b', ['p/s']);
    assert.deepEqual(readdirSync(join(root, 'b')), []);
    mkdirSync(join(root, 'b', 'left', 'over'), { recursive: true });
    writeFileSync(join(root, 'b', 'left', '.burst-tmp-1-dead'), 'crashed writer');
    await d.deleteBucket('b');
    assert.equal(existsSync(join(root, 'b')), false);
  });

  it('validates its options with messages naming them', () => {
    assert.throws(
      () => fs({ roott: '/x' } as never),
      (e) => e instanceof ConfigError && /unknown fs storage option "roott"/.test(e.message),
    );
    assert.throws(
      () => fs({ shared: 'yes' } as never),
      (e) => e instanceof ConfigError && /"shared" must be a boolean, got "yes"/.test(e.message),
    );
    assert.throws(() => fs({ root: '' }), ConfigError);
  });
});
