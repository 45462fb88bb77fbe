/**
 * The listing and batch-delete part of the conformance suite: order, prefix, delimiter, startAfter,
 * pagination beyond one S3 page and deletes beyond one DeleteObjects batch.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isPrefixEntry } from '../../src/storage/types.js';
import { listNames } from './helpers.js';
import type { SuiteContext } from './suite.js';

/** Sorts as S3 does: by UTF-8 bytes. */
function s3Sort(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export function listingConformance(ctx: SuiteContext): void {
  describe('listing', () => {
    const keys = ['ls/a', 'ls/a-b', 'ls/a/b', 'ls/a/c/d', 'ls/b/x', 'ls/b/y', 'ls/c', 'ls/z！', 'ls/z😀', 'ls/é'];
    before(async () => {
      // `ls/a` and `ls/a/b` cannot both be files; the fs driver refuses that, so keep them apart.
      const storable = keys.filter((k) => k !== 'ls/a');
      await Promise.all(storable.map((k) => ctx.driver().put(ctx.bucket(), k, k)));
    });
    const stored = keys.filter((k) => k !== 'ls/a');

    it('lists recursively in UTF-8 byte order, with size and etag', async () => {
      const names = await listNames(ctx.driver(), ctx.bucket(), 'ls/');
      assert.deepEqual(names, s3Sort(stored));
      assert.deepEqual(names.slice(-3), ['ls/z！', 'ls/z😀', 'ls/é'], 'UTF-8 order, not UTF-16 order');
      for await (const e of ctx.driver().list(ctx.bucket(), 'ls/b/')) {
        assert.ok(!isPrefixEntry(e));
        assert.equal(e.size, Buffer.byteLength(e.key));
        assert.equal(typeof e.etag, 'string');
      }
    });

    it('filters by a prefix that is not a folder', async () => {
      assert.deepEqual(await listNames(ctx.driver(), ctx.bucket(), 'ls/a'), ['ls/a-b', 'ls/a/b', 'ls/a/c/d']);
      assert.deepEqual(await listNames(ctx.driver(), ctx.bucket(), 'ls/z'), s3Sort(['ls/z！', 'ls/z😀']));
      assert.deepEqual(await listNames(ctx.driver(), ctx.bucket(), 'ls/nothing'), []);
      assert.deepEqual(await listNames(ctx.driver(), ctx.bucket(), 'ls/a/c/d/deeper'), []);
    });

    it('rolls keys up into common prefixes with a delimiter', async () => {
      const d = ctx.driver();
      const b = ctx.bucket();
      assert.deepEqual(await listNames(d, b, 'ls/', { delimiter: '/' }), [
        'ls/a-b',
        'P:ls/a/',
        'P:ls/b/',
        'ls/c',
        'ls/z！',
        'ls/z😀',
        'ls/é',
      ]);
      assert.deepEqual(await listNames(d, b, 'ls/a/', { delimiter: '/' }), ['ls/a/b', 'P:ls/a/c/']);
      assert.deepEqual(
        await listNames(d, b, '', { delimiter: '/' }).then((n) => n.filter((x) => x.startsWith('P:ls'))),
        ['P:ls/'],
      );
      assert.deepEqual(await listNames(d, b, 'ls/a', { delimiter: '-' }), ['P:ls/a-', 'ls/a/b', 'ls/a/c/d']);
    });

    it('starts after a key, with and without a delimiter', async () => {
      const d = ctx.driver();
      const b = ctx.bucket();
      assert.deepEqual(await listNames(d, b, 'ls/', { startAfter: 'ls/a/c/d' }), s3Sort(stored).slice(3));
      assert.deepEqual(await listNames(d, b, 'ls/', { startAfter: 'ls/b' }), s3Sort(stored).slice(3));
      assert.deepEqual(await listNames(d, b, 'ls/', { startAfter: 'ls/b/x' }), s3Sort(stored).slice(4));
      assert.deepEqual(await listNames(d, b, 'ls/', { startAfter: 'ls/zzzz' }), ['ls/z！', 'ls/z😀', 'ls/é']);
      assert.deepEqual(await listNames(d, b, 'ls/', { startAfter: 'ls/\u{10FFFF}' }), []);
      assert.deepEqual(await listNames(d, b, 'ls/', { startAfter: 'a' }), s3Sort(stored));
      assert.deepEqual(await listNames(d, b, 'ls/', { startAfter: 'ls/b', delimiter: '/' }), [
        'P:ls/b/',
        'ls/c',
        'ls/z！',
        'ls/z😀',
        'ls/é',
      ]);
    });

    it(`pages through many keys in order and deletes them in batches`, async () => {
      const d = ctx.driver();
      const b = ctx.bucket();
      const n = ctx.options.manyKeys;
      const many = Array.from({ length: n }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < many.length; i += 100) await Promise.all(many.slice(i, i + 100).map((k) => d.put(b, k, '')));
      const listed = await listNames(d, b, 'many/');
      assert.equal(listed.length, n);
      assert.deepEqual(listed, many);
      assert.deepEqual(await listNames(d, b, 'many/', { startAfter: many[n - 3] }), many.slice(n - 2));
      async function* keysOf(): AsyncGenerator<string> {
        yield* many;
      }
      await d.delete(b, keysOf());
      assert.deepEqual(await listNames(d, b, 'many/'), []);
    });
  });
}
