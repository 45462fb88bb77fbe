/**
 * The partition property suite, run against each real store (memory, fs, S3 on Ceph): random text
 * objects are stored, planned with random chunk sizes or counts, and read back through
 * `DataPartition` as a worker would (its driver re-created from the spec's storage config).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { planPartitions } from '../../src/partition/planner.js';
import { DataPartition, closePartitionStorage } from '../../src/partition/reader.js';
import type { StorageDriver } from '../../src/storage/types.js';
import { uniqueBucket } from '../storage/helpers.js';
import {
  NEWLINES,
  chunkOptions,
  readPartitions,
  referenceAligned,
  referenceLines,
  runs,
  textObject,
} from './helpers.js';

/** A store to run the suite on. */
export interface SuiteStore {
  driver: StorageDriver;
  /** The URI scheme naming it (`memory`, `fs`, `s3`). */
  scheme: string;
}

export interface SuiteOptions {
  skip?: string | undefined;
  /** Property runs of the main property (the suite scales the others from it). @default 100 */
  runs?: number;
  /** The most chunks per object (each chunk read costs requests on a remote store). @default 64 */
  maxChunks?: number;
}

export function partitionSuite(
  name: string,
  open: () => Promise<SuiteStore> | SuiteStore,
  options: SuiteOptions = {},
): void {
  describe(`partitions on ${name}`, { skip: options.skip }, () => {
    let store: SuiteStore;
    const bucket = uniqueBucket('part');
    let n = 0;
    const keys: string[] = [];
    const put = async (data: Buffer): Promise<string> => {
      const key = `obj/${n++}.txt`;
      await store.driver.put(bucket, key, data);
      keys.push(key);
      return `${store.scheme}://${bucket}/${key}`;
    };
    const main = options.runs ?? 100;

    before(async () => {
      store = await open();
      await store.driver.createBucket(bucket);
    });
    after(async () => {
      await store.driver.delete(bucket, keys).catch(() => undefined);
      await store.driver.deleteBucket(bucket).catch(() => undefined);
      await closePartitionStorage();
      await store.driver.close?.();
    });

    it('lines of all partitions, in order, are the object lines; aligned bytes concatenate to the object', async () => {
      const arb = fc
        .constantFrom(...NEWLINES)
        .chain((nl) =>
          fc.record({ nl: fc.constant(nl), data: textObject(nl), chunking: chunkOptions(options.maxChunks) }),
        );
      await fc.assert(
        fc.asyncProperty(arb, async ({ nl, data, chunking }) => {
          const uri = await put(data);
          const specs = await planPartitions(
            uri,
            { ...chunking(data.length), objNewline: nl },
            { storage: store.driver },
          );
          const read = await readPartitions(specs);
          assert.deepEqual(
            read.flatMap((r) => r.lines),
            referenceLines(data, nl),
          );
          assert.deepEqual(Buffer.concat(read.map((r) => r.bytes)), data);
          for (const [i, spec] of specs.entries()) {
            const [a, b] = referenceAligned(data, nl, spec.start, spec.end);
            assert.deepEqual(
              read[i]?.bytes,
              data.subarray(a, b),
              `partition ${i} [${spec.start}, ${spec.end}) returns only its lines`,
            );
          }
        }),
        { numRuns: runs(main) },
      );
    });

    it('raw byte ranges (objNewline: null) cover exactly [start, end)', async () => {
      const arb = fc.record({
        data: fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
        chunking: chunkOptions(options.maxChunks),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ data, chunking }) => {
          const uri = await put(data);
          const specs = await planPartitions(
            uri,
            { ...chunking(data.length), objNewline: null },
            { storage: store.driver },
          );
          const read = await readPartitions(specs);
          for (const [i, spec] of specs.entries())
            assert.deepEqual(read[i]?.bytes, data.subarray(spec.start, spec.end));
          assert.deepEqual(Buffer.concat(read.map((r) => r.bytes)), data);
        }),
        { numRuns: runs(Math.ceil(main / 2)) },
      );
    });

    it('stream(), text() and bytes() agree; an empty object is one partition with no lines', async () => {
      const data = Buffer.from('première ligne\r\n\nzweite 😀 Zeile\nlast without newline');
      const specs = await planPartitions(await put(data), { objChunkSize: 7 }, { storage: store.driver });
      const texts: string[] = [];
      for (const spec of specs) {
        const p = new DataPartition(spec);
        const streamed: Buffer[] = [];
        for await (const c of p.stream()) streamed.push(c as Buffer);
        assert.deepEqual(Buffer.concat(streamed), Buffer.from(await p.bytes()));
        texts.push(await p.text());
      }
      assert.equal(texts.join(''), data.toString());
      const empty = await planPartitions(await put(Buffer.alloc(0)), { objChunkNumber: 4 }, { storage: store.driver });
      assert.equal(empty.length, 1);
      assert.deepEqual((await readPartitions(empty))[0], { lines: [], bytes: Buffer.alloc(0) });
    });

    it('one bigger case: a 300 KB line among short ones, 16 KiB chunks', async () => {
      const long = 'é'.repeat(150_000);
      const lines = ['head', ...Array.from({ length: 200 }, (_, i) => `row ${i}`), long, 'after', ''];
      const data = Buffer.from(lines.join('\n'));
      const specs = await planPartitions(await put(data), { objChunkSize: 16384 }, { storage: store.driver });
      const read = await readPartitions(specs);
      assert.deepEqual(
        read.flatMap((r) => r.lines),
        referenceLines(data, '\n'),
      );
      const owner = read.findIndex((r) => r.lines.includes(long));
      assert.ok(
        owner >= 0 && read.slice(owner + 1).some((r) => r.lines.length === 0),
        'chunks inside the long line own no line',
      );
    });
  });
}
