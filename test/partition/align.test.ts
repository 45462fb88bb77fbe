/**
 * The alignment and line splitting on their own, over in-memory bytes delivered in random pieces
 * (down to one byte, so terminators and UTF-8 characters straddle pieces): many fast runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { alignToLines, overlapsItself, type RangeOpener } from '../../src/partition/align.js';
import { splitLines } from '../../src/partition/lines.js';
import { NEWLINES, referenceAligned, referenceLines, runs, textObject } from './helpers.js';

/** Serves ranges of `data` in pieces of pseudo-random sizes (1..maxPiece), logging what was asked. */
function opener(data: Buffer, seed: number, maxPiece: number, log: Array<[number, number]> = []): RangeOpener {
  let x = seed | 1;
  const nextSize = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 1 + ((x >>> 0) % maxPiece);
  };
  return async (from, to) => {
    log.push([from, to]);
    const slice = data.subarray(from, Math.min(to, data.length));
    return (async function* () {
      for (let i = 0; i < slice.length; ) {
        const n = nextSize();
        yield slice.subarray(i, i + n);
        i += n;
      }
    })();
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

const truncated = (): Error => new Error('truncated');

describe('line alignment (in memory, random pieces)', () => {
  it('every line is delivered exactly once, whole, and each chunk returns exactly its aligned bytes', async () => {
    const arb = fc.constantFrom(...NEWLINES).chain((nl) =>
      fc.record({
        nl: fc.constant(nl),
        data: textObject(nl),
        chunk: fc.integer({ min: 1, max: 300 }),
        seed: fc.integer(),
        piece: fc.constantFrom(1, 2, 3, 7, 64, 4096),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ nl, data, chunk, seed, piece }) => {
        const lines: string[] = [];
        const all: Buffer[] = [];
        for (let start = 0; start < Math.max(1, data.length); start += chunk) {
          const end = Math.min(data.length, start + chunk);
          const bytes = Buffer.concat(
            await collect(
              alignToLines(
                opener(data, seed + start, piece),
                { start, end, size: data.length, truncated },
                Buffer.from(nl),
              ),
            ),
          );
          const [a, b] = referenceAligned(data, nl, start, end);
          assert.deepEqual(bytes, data.subarray(a, b), `chunk [${start}, ${end})`);
          all.push(bytes);
          lines.push(...(await collect(splitLines([bytes], Buffer.from(nl), nl === '\n'))));
        }
        assert.deepEqual(Buffer.concat(all), data);
        assert.deepEqual(lines, referenceLines(data, nl));
      }),
      { numRuns: runs(300) },
    );
  });

  it('splitLines gives the same lines whatever the piece sizes', async () => {
    const arb = fc.constantFrom(...NEWLINES).chain((nl) =>
      fc.record({
        nl: fc.constant(nl),
        data: textObject(nl),
        seed: fc.integer(),
        piece: fc.constantFrom(1, 2, 3, 5, 100),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ nl, data, seed, piece }) => {
        const source = await opener(data, seed, piece)(0, data.length);
        assert.deepEqual(await collect(splitLines(source, Buffer.from(nl), nl === '\n')), referenceLines(data, nl));
      }),
      { numRuns: runs(300) },
    );
  });

  it('splitLines matches the per-line reference on arbitrary bytes (invalid UTF-8 included)', async () => {
    const byte = fc.oneof(
      fc.constantFrom(0x0a, 0x0d, 0x1e, 0xc2, 0xb6, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x3c, 0x45),
      fc.integer({ min: 0, max: 255 }),
    );
    const arb = fc.record({
      nl: fc.constantFrom(...NEWLINES),
      bytes: fc.array(byte, { maxLength: 400 }),
      seed: fc.integer(),
      piece: fc.constantFrom(1, 2, 3, 17, 1000),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ nl, bytes, seed, piece }) => {
        const data = Buffer.from(bytes);
        const source = await opener(data, seed, piece)(0, data.length);
        assert.deepEqual(await collect(splitLines(source, Buffer.from(nl), nl === '\n')), referenceLines(data, nl));
      }),
      { numRuns: runs(300) },
    );
  });

  it('reads on past the chunk end, in growing reads, for a line far longer than the chunk and any look-ahead', async () => {
    const long = 'y'.repeat(3 * 1024 * 1024);
    const data = Buffer.from(`a\n${long}\nb\n`);
    const log: Array<[number, number]> = [];
    const bytes = Buffer.concat(
      await collect(
        alignToLines(
          opener(data, 7, 65536, log),
          { start: 0, end: 4, size: data.length, truncated },
          Buffer.from('\n'),
        ),
      ),
    );
    assert.equal(bytes.toString(), `a\n${long}\n`);
    assert.ok(log.length > 2, 'continuation reads grow instead of one fixed window');
    assert.ok(log.every(([from, to]) => to <= data.length && from < to));
    // The chunks inside the long line own nothing, and read nothing past their own end.
    const inside: Array<[number, number]> = [];
    const none = await collect(
      alignToLines(
        opener(data, 9, 65536, inside),
        { start: 1024, end: 2048, size: data.length, truncated },
        Buffer.from('\n'),
      ),
    );
    assert.deepEqual(none, []);
    assert.equal(inside.length, 1, 'a chunk inside a line makes one read');
    assert.equal(inside[0]?.[0], 1023);
  });

  it('a chunk reading fewer bytes than planned fails with the given error', async () => {
    const data = Buffer.from('abc\ndef\nghi\n');
    const short: RangeOpener = async (from, to) =>
      (async function* () {
        yield data.subarray(from, Math.min(to, from + 2));
      })();
    await assert.rejects(
      collect(alignToLines(short, { start: 0, end: 8, size: data.length, truncated }, Buffer.from('\n'))),
      /truncated/,
    );
  });

  it('refuses terminators that overlap themselves', () => {
    for (const nl of ['\n\n', 'aa', 'abab', 'aba']) assert.equal(overlapsItself(Buffer.from(nl)), true, nl);
    for (const nl of ['\n', '\r\n', '<EOL>', '¶', 'ab']) assert.equal(overlapsItself(Buffer.from(nl)), false, nl);
  });
});
