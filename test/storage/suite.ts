/**
 * The storage driver conformance suite. Every driver runs it with one line:
 *
 * ```ts
 * storageConformance('memory', () => memory());
 * ```
 *
 * It creates its own buckets (random names) and deletes them afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { CancelledError, InvalidKeyError, NoSuchBucketError, NoSuchKeyError, StorageError } from '../../src/errors.js';
import type { StorageDriver } from '../../src/storage/types.js';
import { dropBucket, gatedStream, listNames, patternBytes, readAll, rejectsWith, uniqueBucket } from './helpers.js';
import { listingConformance } from './suite-listing.js';

/** Options of {@link storageConformance}. */
export interface ConformanceOptions {
  /** Skip the whole suite, printing this reason (e.g. the server could not be started). */
  skip?: string | undefined;
  /**
   * Objects written for the pagination and batch-delete tests; more than 1,000 (S3's page size and
   * DeleteObjects batch) by default.
   */
  manyKeys?: number;
  /** Size of the "large object" test; pick one above the driver's multipart threshold. @default 6 MiB */
  largeSize?: number;
}

/** Context handed to the parts of the suite. */
export interface SuiteContext {
  driver(): StorageDriver;
  bucket(): string;
  options: Required<Omit<ConformanceOptions, 'skip'>>;
}

/** Runs the shared conformance suite against the driver `makeDriver` returns. */
export function storageConformance(
  name: string,
  makeDriver: () => StorageDriver | Promise<StorageDriver>,
  options: ConformanceOptions = {},
): void {
  describe(`storage conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let driver: StorageDriver | undefined;
    const bucket = uniqueBucket('conf');
    const ctx: SuiteContext = {
      driver: () => driver as StorageDriver,
      bucket: () => bucket,
      options: { manyKeys: options.manyKeys ?? 1100, largeSize: options.largeSize ?? 6 * 1024 * 1024 + 7 },
    };
    before(async () => {
      driver = await makeDriver();
      await driver.createBucket(bucket);
    });
    after(async () => {
      if (!driver) return;
      await dropBucket(driver, bucket);
      await driver.close?.();
    });
    bucketTests(ctx);
    objectTests(ctx);
    rangeTests(ctx);
    errorTests(ctx);
    listingConformance(ctx);
    atomicityTests(ctx);
  });
}

function bucketTests(ctx: SuiteContext): void {
  it('describes itself: name, capabilities and a JSON config naming the driver', () => {
    const d = ctx.driver();
    assert.equal(d.config.driver, d.name);
    assert.deepEqual(JSON.parse(JSON.stringify(d.config)), d.config);
    for (const k of ['presign', 'multipart', 'remote'] as const) assert.equal(typeof d.capabilities[k], 'boolean');
  });

  it('creates, checks and deletes buckets; createBucket is idempotent', async () => {
    const d = ctx.driver();
    const b = uniqueBucket('bkt');
    assert.equal(await d.bucketExists(b), false);
    await d.createBucket(b);
    await d.createBucket(b);
    assert.equal(await d.bucketExists(b), true);
    await d.put(b, 'x/y', 'z');
    const err = await rejectsWith(d.deleteBucket(b), StorageError, [b]);
    assert.equal((err as StorageError).code, 'BUCKET_NOT_EMPTY');
    await d.delete(b, ['x/y']);
    await d.deleteBucket(b);
    assert.equal(await d.bucketExists(b), false);
    await rejectsWith(d.deleteBucket(b), NoSuchBucketError, [b]);
  });
}

function objectTests(ctx: SuiteContext): void {
  it('round-trips bytes (every byte value), strings (UTF-8) and empty objects', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    await d.put(b, 'obj/bytes', new Uint8Array(bytes));
    assert.deepEqual(Buffer.from(await d.get(b, 'obj/bytes')), bytes);
    await d.put(b, 'obj/text', 'héllo wörld ✓ 😀');
    assert.equal(Buffer.from(await d.get(b, 'obj/text')).toString('utf8'), 'héllo wörld ✓ 😀');
    assert.equal((await d.head(b, 'obj/text')).size, Buffer.byteLength('héllo wörld ✓ 😀'));
    await d.put(b, 'obj/empty', new Uint8Array(0));
    assert.equal((await d.get(b, 'obj/empty')).byteLength, 0);
    assert.equal((await d.head(b, 'obj/empty')).size, 0);
    assert.equal((await readAll(await d.getStream(b, 'obj/empty'))).byteLength, 0);
  });

  it('accepts streams of unknown length: a Readable and an async iterable', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const parts = [patternBytes(70_000, 3), patternBytes(1, 4), patternBytes(300_000, 5)];
    await d.put(b, 'obj/readable', Readable.from(parts));
    assert.deepEqual(Buffer.from(await d.get(b, 'obj/readable')), Buffer.concat(parts));
    async function* gen(): AsyncGenerator<Uint8Array> {
      for (const p of parts) yield new Uint8Array(p);
    }
    await d.put(b, 'obj/iterable', gen());
    assert.deepEqual(Buffer.from(await d.get(b, 'obj/iterable')), Buffer.concat(parts));
    await d.put(b, 'obj/empty-stream', Readable.from([]));
    assert.equal((await d.head(b, 'obj/empty-stream')).size, 0);
  });

  it('head reports size, etag and last modified; an overwrite changes the etag', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const first = await d.put(b, 'obj/head', 'one');
    const h1 = await d.head(b, 'obj/head');
    assert.equal(h1.key, 'obj/head');
    assert.equal(h1.size, 3);
    assert.ok(h1.lastModified instanceof Date && !Number.isNaN(h1.lastModified.getTime()));
    assert.equal(typeof h1.etag, 'string');
    if (first.etag !== undefined) assert.equal(first.etag, h1.etag);
    await d.put(b, 'obj/head', 'two!');
    const h2 = await d.head(b, 'obj/head');
    assert.equal(h2.size, 4);
    assert.notEqual(h2.etag, h1.etag);
    assert.equal(Buffer.from(await d.get(b, 'obj/head')).toString(), 'two!');
  });

  it('exists is true for objects and false for missing keys and "folders"', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    await d.put(b, 'obj/exists/inner', 'x');
    assert.equal(await d.exists(b, 'obj/exists/inner'), true);
    assert.equal(await d.exists(b, 'obj/exists'), false);
    assert.equal(await d.exists(b, 'obj/nope'), false);
  });

  it('round-trips unicode keys and keys with URL-special characters', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const keys = ['uni/données/été 2024/ファイル 😀.txt', "uni/a+b c%20d?e#f&g=h;i,j@k$l!m'n(o)p", 'uni/ünï/ç'];
    for (const k of keys) await d.put(b, k, k);
    for (const k of keys) {
      assert.equal(Buffer.from(await d.get(b, k)).toString('utf8'), k);
      assert.equal((await d.head(b, k)).key, k);
    }
    assert.deepEqual(
      await listNames(d, b, 'uni/'),
      [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
    await d.delete(b, keys);
    assert.deepEqual(await listNames(d, b, 'uni/'), []);
  });

  it('streams whole objects and ranges', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const data = patternBytes(200_000, 9);
    await d.put(b, 'obj/stream', data);
    assert.deepEqual(await readAll(await d.getStream(b, 'obj/stream')), data);
    assert.deepEqual(
      await readAll(await d.getStream(b, 'obj/stream', { range: { offset: 1000, length: 5000 } })),
      data.subarray(1000, 6000),
    );
    assert.deepEqual(
      await readAll(await d.getStream(b, 'obj/stream', { range: { offset: 199_999 } })),
      data.subarray(199_999),
    );
  });

  it('round-trips a large object and reads ranges across its parts', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const size = ctx.options.largeSize;
    const data = patternBytes(size, 11);
    let progress = 0;
    await d.put(b, 'obj/large', Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]), {
      onProgress: (n) => (progress = n),
    });
    assert.equal(progress, size);
    assert.equal((await d.head(b, 'obj/large')).size, size);
    assert.ok(Buffer.from(await d.get(b, 'obj/large')).equals(data));
    const mid = Math.floor(size / 2);
    assert.ok(
      Buffer.from(await d.get(b, 'obj/large', { range: { offset: mid - 10, length: 1_000_000 } })).equals(
        data.subarray(mid - 10, mid - 10 + 1_000_000),
      ),
    );
    await d.delete(b, ['obj/large']);
  });
}

function rangeTests(ctx: SuiteContext): void {
  it('reads byte ranges, clamped to the object like slice()', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const data = Buffer.from('0123456789');
    await d.put(b, 'range/ten', data);
    const r = async (offset: number, length?: number) =>
      Buffer.from(
        await d.get(b, 'range/ten', { range: length === undefined ? { offset } : { offset, length } }),
      ).toString();
    assert.equal(await r(0, 10), '0123456789');
    assert.equal(await r(2, 3), '234');
    assert.equal(await r(7), '789');
    assert.equal(await r(9, 1), '9');
    assert.equal(await r(0, 1), '0');
    assert.equal(await r(5, 0), '');
    assert.equal(await r(8, 100), '89');
    assert.equal(await r(10), '');
    assert.equal(await r(10, 5), '');
    assert.equal(await r(50, 5), '');
    await d.put(b, 'range/empty', '');
    assert.equal(Buffer.from(await d.get(b, 'range/empty', { range: { offset: 0, length: 5 } })).byteLength, 0);
    assert.equal(Buffer.from(await d.get(b, 'range/empty', { range: { offset: 3 } })).byteLength, 0);
  });

  it('refuses invalid ranges before reading', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    for (const range of [{ offset: -1 }, { offset: 1.5 }, { offset: 0, length: -2 }, { offset: Number.NaN }]) {
      const err = await rejectsWith(d.get(b, 'range/ten', { range }), StorageError, ['invalid range']);
      assert.equal((err as StorageError).code, 'INVALID_RANGE');
    }
  });

  it('ranges of a missing object fail with NoSuchKeyError', async () => {
    const d = ctx.driver();
    await rejectsWith(d.get(ctx.bucket(), 'range/missing', { range: { offset: 0, length: 0 } }), NoSuchKeyError);
    await rejectsWith(d.get(ctx.bucket(), 'range/missing', { range: { offset: 5 } }), NoSuchKeyError);
  });
}

function errorTests(ctx: SuiteContext): void {
  it('missing keys fail with NoSuchKeyError naming bucket and key', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    for (const op of [
      () => d.get(b, 'err/missing'),
      () => d.head(b, 'err/missing'),
      () => d.getStream(b, 'err/missing'),
    ]) {
      const err = await rejectsWith(op, NoSuchKeyError, [b, 'err/missing']);
      assert.equal((err as NoSuchKeyError).bucket, b);
      assert.equal((err as NoSuchKeyError).key, 'err/missing');
    }
  });

  it('a missing bucket fails with NoSuchBucketError naming it, for every operation', async () => {
    const d = ctx.driver();
    const b = uniqueBucket('missing');
    const ops: Array<() => Promise<unknown>> = [
      () => d.get(b, 'k'),
      () => d.getStream(b, 'k'),
      () => d.head(b, 'k'),
      () => d.exists(b, 'k'),
      () => d.put(b, 'k', 'v'),
      () => d.put(b, 'k', Readable.from([Buffer.from('v')])),
      () => d.delete(b, ['k']),
      () => listNames(d, b),
      () => d.deleteBucket(b),
    ];
    for (const op of ops) {
      const err = await rejectsWith(op, NoSuchBucketError, [b]);
      assert.equal((err as NoSuchBucketError).bucket, b);
    }
  });

  it('refuses invalid keys and bucket names before any request', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    for (const key of ['', 'a\0b', 'x'.repeat(1025), 'é'.repeat(513)]) {
      await rejectsWith(d.put(b, key, 'v'), InvalidKeyError);
      await rejectsWith(d.get(b, key), InvalidKeyError);
      await rejectsWith(d.head(b, key), InvalidKeyError);
      await rejectsWith(d.exists(b, key), InvalidKeyError);
    }
    for (const bucket of ['', 'a/b', '..', 'a\0b']) {
      await rejectsWith(d.put(bucket, 'k', 'v'), InvalidKeyError);
      await rejectsWith(d.createBucket(bucket), InvalidKeyError);
      await rejectsWith(listNames(d, bucket), InvalidKeyError);
    }
    await d.put(b, 'err/keep', 'v');
    await rejectsWith(d.delete(b, ['err/keep', '']), InvalidKeyError);
    assert.equal(await d.exists(b, 'err/keep'), true, 'a batch with an invalid key deletes nothing');
    await d.delete(b, ['err/keep', 'err/never-existed']);
    assert.equal(await d.exists(b, 'err/keep'), false);
  });
}

function atomicityTests(ctx: SuiteContext): void {
  it('readers never see a partial object while it is being written', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const v1 = patternBytes(ctx.options.largeSize, 21);
    await d.put(b, 'atomic/obj', v1);
    const v2a = patternBytes(ctx.options.largeSize, 22);
    const v2b = patternBytes(4096, 23);
    const gated = gatedStream(v2a, v2b);
    const fresh = gatedStream(Buffer.from('new'), Buffer.from('-object'));
    const writing = d.put(b, 'atomic/obj', gated.stream);
    const creating = d.put(b, 'atomic/new', fresh.stream);
    await Promise.all([gated.sentFirst, fresh.sentFirst]);
    // Half written: readers see the old object whole, the new key not at all.
    assert.ok(Buffer.from(await d.get(b, 'atomic/obj')).equals(v1));
    assert.equal((await d.head(b, 'atomic/obj')).size, v1.byteLength);
    assert.equal(await d.exists(b, 'atomic/new'), false);
    assert.deepEqual(await listNames(d, b, 'atomic/'), ['atomic/obj']);
    gated.release();
    fresh.release();
    await Promise.all([writing, creating]);
    assert.ok(Buffer.from(await d.get(b, 'atomic/obj')).equals(Buffer.concat([v2a, v2b])));
    assert.equal(Buffer.from(await d.get(b, 'atomic/new')).toString(), 'new-object');
    await d.delete(b, ['atomic/obj', 'atomic/new']);
  });

  it('an aborted upload leaves the old object (or nothing) and rejects with CancelledError', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    await d.put(b, 'abort/existing', 'old');
    const pre = new AbortController();
    pre.abort();
    await rejectsWith(d.put(b, 'abort/pre', 'v', { signal: pre.signal }), CancelledError, ['abort/pre']);
    assert.equal(await d.exists(b, 'abort/pre'), false);
    for (const key of ['abort/existing', 'abort/new']) {
      const ac = new AbortController();
      const gated = gatedStream(patternBytes(ctx.options.largeSize, 31), patternBytes(100, 32));
      const writing = d.put(b, key, gated.stream, { signal: ac.signal });
      await gated.sentFirst;
      ac.abort();
      gated.fail(new Error('never sent'));
      await rejectsWith(writing, CancelledError, [key, b]);
    }
    assert.equal(Buffer.from(await d.get(b, 'abort/existing')).toString(), 'old');
    assert.equal(await d.exists(b, 'abort/new'), false);
    assert.deepEqual(await listNames(d, b, 'abort/'), ['abort/existing']);
    await d.delete(b, ['abort/existing']);
  });

  it('a failing body stream rejects the put and leaves nothing', async () => {
    const d = ctx.driver();
    const b = ctx.bucket();
    const gated = gatedStream(patternBytes(1000, 41), patternBytes(10, 42));
    const writing = d.put(b, 'fail/obj', gated.stream);
    await gated.sentFirst;
    gated.fail(new Error('source broke'));
    await assert.rejects(writing);
    assert.equal(await d.exists(b, 'fail/obj'), false);
    assert.deepEqual(await listNames(d, b, 'fail/'), []);
  });
}
