/**
 * Helpers for the partition tests: reference (whole-buffer, non-streaming) definitions of an object's
 * lines and of a chunk's aligned range, random text objects for fast-check, and readers that collect
 * what partitions return.
 */
import fc from 'fast-check';
import { DataPartition } from '../../src/partition/reader.js';
import type { PartitionSpec } from '../../src/partition/types.js';
import type { StorageDriver } from '../../src/storage/types.js';

/** The lines of `data` by definition: split on `newline`, last empty piece dropped, `'\r'` stripped for `'\n'`. */
export function referenceLines(data: Buffer, newline: string): string[] {
  const nl = Buffer.from(newline);
  const out: string[] = [];
  let i = 0;
  while (i < data.length) {
    const j = data.indexOf(nl, i);
    const end = j < 0 ? data.length : j;
    let piece = data.subarray(i, end);
    if (newline === '\n' && piece.length > 0 && piece[piece.length - 1] === 0x0d) piece = piece.subarray(0, -1);
    out.push(piece.toString('utf8'));
    if (j < 0) break;
    i = j + nl.length;
  }
  return out;
}

/**
 * The aligned data range of `[start, end)`, by definition: the object's line starts are 0 and every
 * position after a terminator (found scanning from 0); the chunk owns the lines starting in
 * `[start, end)` and its data runs from the first of them to the start of the line after the last.
 */
export function referenceAligned(data: Buffer, newline: string, start: number, end: number): [number, number] {
  const nl = Buffer.from(newline);
  const starts: number[] = data.length > 0 ? [0] : [];
  for (let q = data.indexOf(nl); q >= 0; q = data.indexOf(nl, q + nl.length)) {
    if (q + nl.length < data.length) starts.push(q + nl.length);
  }
  const owned = starts.map((s, i) => [s, starts[i + 1] ?? data.length] as const).filter(([s]) => s >= start && s < end);
  if (owned.length === 0) return [0, 0];
  return [owned[0]![0], owned[owned.length - 1]![1]];
}

/** A line's content: mostly short ASCII, sometimes empty, multi-byte UTF-8, stray `\r`, or long. */
const lineContent = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('\r', 'a\rb', '€', '😀😀', 'ü\r') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('x', 'é', '𝄞 ', 'ab '), fc.integer({ min: 50, max: 1500 }))
      .map(([s, n]) => s.repeat(n)),
  },
);

/** The terminators a property run may use for `objNewline`. */
export const NEWLINES = ['\n', '\n', '\n', '\r\n', '\u001e', '¶', '<EOL>'] as const;

/** A random text object for a terminator: lines joined by it (or by `\r\n` for `\n`), with or without a final one. */
export function textObject(newline: string): fc.Arbitrary<Buffer> {
  const sep = newline === '\n' ? fc.constantFrom('\n', '\n', '\r\n') : fc.constant(newline);
  return fc.tuple(fc.array(fc.tuple(lineContent, sep), { maxLength: 40 }), fc.boolean()).map(([lines, final]) => {
    let text = lines.map(([l, s]) => l + s).join('');
    if (!final && text.endsWith(newline)) text = text.slice(0, -newline.length);
    return Buffer.from(text);
  });
}

/** Chunking options for an object of `size` bytes, making at most `maxChunks` chunks. */
export function chunkOptions(
  maxChunks = 64,
): fc.Arbitrary<(size: number) => { objChunkSize?: number; objChunkNumber?: number }> {
  return fc.oneof(
    fc.integer({ min: 1, max: 5000 }).map((raw) => (size: number) => ({
      objChunkSize: Math.max(Math.ceil(size / maxChunks), 1 + (raw % (size + 8))),
    })),
    fc.integer({ min: 1, max: maxChunks }).map((n) => () => ({ objChunkNumber: n })),
    fc.constant(() => ({})),
  );
}

/** Reads each partition's lines and bytes (through `driver` when given). */
export async function readPartitions(
  specs: PartitionSpec[],
  driver?: StorageDriver,
): Promise<Array<{ lines: string[]; bytes: Buffer }>> {
  const out: Array<{ lines: string[]; bytes: Buffer }> = [];
  for (const spec of specs) {
    const p = new DataPartition(spec, driver ? { driver } : {});
    const lines: string[] = [];
    for await (const line of p.lines()) lines.push(line);
    out.push({ lines, bytes: Buffer.from(await p.bytes()) });
  }
  return out;
}

/** Property runs, scaled by BURST_PROPERTY_RUNS_SCALE (e.g. 0.2 for a quick local run). */
export function runs(n: number): number {
  const scale = Number(process.env.BURST_PROPERTY_RUNS_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
