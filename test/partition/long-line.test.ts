/**
 * Issue 8, partitioner: one line of 100 MiB among short lines, split into chunks of 8 MiB (so the line
 * spans thirteen of them). Every line must be delivered exactly once, in order, the long one whole and
 * by the chunk its start falls in; the chunks it only passes through deliver nothing of it. On fs and
 * on S3 (Ceph RGW). The object is generated and stored as a stream, never whole in memory.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planPartitions } from '../../src/partition/planner.ts';
import { DataPartition, closePartitionStorage } from '../../src/partition/reader.ts';
import { fs } from '../../src/storage/fs/driver.ts';
import { s3 } from '../../src/storage/s3/driver.ts';
import type { StorageDriver } from '../../src/storage/types.ts';
import { ensureCeph } from '../services.ts';

const MiB = 2 ** 20;
const LONG = 100 * MiB;
const SHORT_BEFORE = 150_000; // ~2 MiB of short lines on each side, so the long line starts mid-chunk
const SHORT_AFTER = 150_000;
const CHUNK = 8 * MiB;

/** What the generator wrote: the object's hash, its line count, and the long line's place and hash. */
interface Written {
  sha256: string;
  size: number;
  lines: number;
  longStart: number;
  longSha256: string;
}

/** A 1 MiB run of letters and digits (no terminator), its first bytes stamped with `i`. */
function longPiece(i: number, n: number): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const piece = Buffer.allocUnsafe(n);
  for (let j = 0; j < n; j++) piece[j] = alphabet.charCodeAt((j * 7 + i) % alphabet.length);
  piece.write(String(i).padStart(8, '0').slice(0, n));
  return piece;
}

/** The object as a stream: short lines, one line of 100 MiB, short lines; every line ends with "\n". */
function generate(): { stream: AsyncGenerator<Buffer>; written: () => Written } {
  const hash = createHash('sha256');
  const longHash = createHash('sha256');
  let size = 0;
  let lines = 0;
  let longStart = -1;
  const emit = (b: Buffer): Buffer => {
    hash.update(b);
    size += b.length;
    return b;
  };
  const shortLines = (from: number, count: number): Buffer => {
    let text = '';
    for (let i = from; i < from + count; i++) text += `short line ${i}\n`;
    lines += count;
    return Buffer.from(text);
  };
  async function* stream(): AsyncGenerator<Buffer> {
    for (let i = 0; i < SHORT_BEFORE; i += 10_000) yield emit(shortLines(i, 10_000));
    longStart = size;
    for (let at = 0, i = 0; at < LONG; at += MiB, i++) {
      const piece = longPiece(i, Math.min(MiB, LONG - at));
      longHash.update(piece);
      yield emit(piece);
    }
    yield emit(Buffer.from('\n'));
    lines++;
    for (let i = 0; i < SHORT_AFTER; i += 10_000) yield emit(shortLines(SHORT_BEFORE + i, 10_000));
  }
  return {
    stream: stream(),
    written: () => ({ sha256: hash.digest('hex'), size, lines, longStart, longSha256: longHash.digest('hex') }),
  };
}

/** Stores the object, then reads every chunk's lines as workers would, checking them against what was written. */
async function roundTrip(driver: StorageDriver, scheme: string, bucket: string): Promise<void> {
  const key = `long-line-${process.pid}.txt`;
  if (!(await driver.bucketExists(bucket))) await driver.createBucket(bucket);
  const object = generate();
  await driver.put(bucket, key, object.stream);
  const w = object.written();
  try {
    const specs = await planPartitions(`${scheme}://${bucket}/${key}`, { objChunkSize: CHUNK }, { storage: driver });
    assert.equal(specs.length, Math.ceil(w.size / CHUNK));
    const all = createHash('sha256');
    let lines = 0;
    const longOnes: Array<{ part: number; length: number; sha256: string }> = [];
    const empty: number[] = [];
    for (const spec of specs) {
      let mine = 0;
      // Through the spec's own storage config, as a worker reads it.
      for await (const line of new DataPartition(spec).lines()) {
        all.update(line);
        all.update('\n');
        lines++;
        mine++;
        if (line.length > MiB)
          longOnes.push({
            part: spec.part,
            length: line.length,
            sha256: createHash('sha256').update(line).digest('hex'),
          });
      }
      if (mine === 0) empty.push(spec.part);
    }
    assert.equal(lines, w.lines, 'as many lines as were written');
    assert.equal(all.digest('hex'), w.sha256, 'each line exactly once, in order, whole');
    assert.equal(longOnes.length, 1, 'the long line was delivered once');
    assert.deepEqual(
      longOnes[0],
      { part: Math.floor(w.longStart / CHUNK), length: LONG, sha256: w.longSha256 },
      'by the chunk it starts in, intact',
    );
    // The chunks lying wholly inside the long line own no line start.
    const inside = specs.filter((s) => s.start > w.longStart && s.end <= w.longStart + LONG).map((s) => s.part);
    assert.ok(inside.length >= 10, `the line spans ${inside.length} whole chunks`);
    assert.deepEqual(empty, inside);
  } finally {
    await driver.delete(bucket, [key]);
  }
}

describe('a line of 100 MiB among short lines, in chunks of 8 MiB', () => {
  after(() => closePartitionStorage());

  test('on fs', { timeout: 120_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-long-line-'));
    try {
      await roundTrip(fs({ root }), 'fs', 'lines');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('on S3 (Ceph RGW)', { timeout: 120_000 }, async (t) => {
    const ceph = await ensureCeph();
    if ('skip' in ceph) return t.skip(`Ceph RGW unavailable: ${ceph.skip}`);
    const driver = s3({
      endpoint: ceph.endpoint,
      region: ceph.region,
      accessKeyId: ceph.accessKeyId,
      secretAccessKey: ceph.secretAccessKey,
      forcePathStyle: true,
    });
    try {
      await roundTrip(driver, 's3', 'burst-long-line');
    } finally {
      await driver.close?.();
    }
  });
});
