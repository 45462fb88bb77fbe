/**
 * The whole flow without the executor: plan on the client, mark, structured-clone (the IPC hop),
 * `toCallInput` in the "worker", count words. Also what a worker sees when the data changed after
 * planning, and that the worker side loads no SDK or client-side module.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, NoSuchKeyError } from '../../src/errors.js';
import { PartitionError } from '../../src/partition/errors.js';
import { planPartitions } from '../../src/partition/planner.js';
import {
  DataPartition,
  PARTITION_MARK,
  closePartitionStorage,
  markPartition,
  toCallInput,
} from '../../src/partition/reader.js';
import { fs } from '../../src/storage/fs/driver.js';
import { rejectsWith } from '../storage/helpers.js';
import { readPartitions } from './helpers.js';

const root = await mkdtemp(join(tmpdir(), 'burst-part-e2e-'));
const store = fs({ root });
const ctx = { storage: store };

/** A user function: the word count of its partition, read line by line. */
async function countWords(input: unknown): Promise<number> {
  assert.ok(input instanceof DataPartition);
  let n = 0;
  for await (const line of input.lines()) n += line.split(/\s+/).filter(Boolean).length;
  return n;
}

const texts: Record<string, string> = {
  'books/a.txt': 'the quick brown fox\njumps over\r\nthe lazy dog\n',
  'books/b.txt': `${'lorem ipsum dolor '.repeat(500)}\nsit amet\n\n\nconsectetur`,
  'books/c.txt': '',
  'books/d.txt': 'naïve café 😀 über\n'.repeat(300),
};
const expected = Object.values(texts).reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);

before(async () => {
  await store.createBucket('lib');
  for (const [k, v] of Object.entries(texts)) await store.put('lib', k, v);
});
after(async () => {
  await closePartitionStorage();
  await rm(root, { recursive: true, force: true });
});

describe('partitions end to end (no executor)', () => {
  it('plan → mark → structuredClone → toCallInput → count words gives the total, for any chunk size', async () => {
    for (const options of [{}, { objChunkSize: 7 }, { objChunkSize: 1000 }, { objChunkNumber: 5 }]) {
      const specs = await planPartitions('fs://lib/books/', options, ctx);
      const inputs = specs.map((s) => structuredClone(markPartition(s)));
      const JSONed = inputs.map((i) => JSON.parse(JSON.stringify(i)) as unknown);
      const counts = await Promise.all([...inputs, ...JSONed].map((i) => countWords(toCallInput(i))));
      assert.equal(
        counts.slice(0, specs.length).reduce((a, b) => a + b, 0),
        expected,
        JSON.stringify(options),
      );
      assert.deepEqual(counts.slice(specs.length), counts.slice(0, specs.length));
    }
  });

  it('toCallInput passes ordinary inputs through untouched and refuses a broken mark', () => {
    const obj = { a: 1 };
    for (const v of [obj, 1, 'x', null, undefined, [1]]) assert.equal(toCallInput(v), v);
    assert.throws(() => toCallInput({ [PARTITION_MARK]: { uri: 3 } }), ConfigError);
  });

  it('a partition prints and serializes without its storage config', async () => {
    const [spec] = await planPartitions('fs://lib/books/a.txt', {}, ctx);
    const p = toCallInput(markPartition(spec!)) as DataPartition;
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(p))).sort(), [
      'bucket',
      'key',
      'newline',
      'objectIndex',
      'part',
      'range',
      'size',
      'totalParts',
      'uri',
    ]);
    assert.ok(!Object.keys(p).some((k) => k === 'storage' || k === 'spec'));
  });

  it('an object rewritten, truncated or deleted after planning fails the read with a typed error naming it', async () => {
    await store.put('lib', 'tmp/x.txt', 'aaa\nbbb\nccc\n');
    const specs = await planPartitions('fs://lib/tmp/x.txt', { objChunkSize: 4 }, ctx);
    await store.put('lib', 'tmp/x.txt', 'AAA\nBBB\nCCC\n'); // same size, new version
    const e = await rejectsWith(readPartitions(specs), PartitionError, [
      'object "tmp/x.txt" in bucket "lib" changed since it was planned',
      'etag',
    ]);
    assert.equal((e as PartitionError).code, 'OBJECT_CHANGED');
    assert.equal((e as PartitionError).key, 'tmp/x.txt');
    await store.put('lib', 'tmp/x.txt', 'aaa\n');
    await rejectsWith(readPartitions(specs), PartitionError, ['size 4, expected 12']);
    await store.delete('lib', ['tmp/x.txt']);
    await rejectsWith(readPartitions(specs), NoSuchKeyError, ['tmp/x.txt']);
  });

  it('a file changed between the range reads of one chunk is caught as OBJECT_CHANGED', async () => {
    // The version check happens before the read; this change comes after it, between two range reads.
    const path = join(root, 'lib', 'tmp', 'y.txt');
    await store.put('lib', 'tmp/y.txt', `a\n${'b'.repeat(300_000)}\n`);
    const [first] = await planPartitions('fs://lib/tmp/y.txt', { objChunkSize: 100 }, ctx);
    const chunks = (toCallInput(markPartition(first!)) as DataPartition).chunks();
    assert.equal(
      (await chunks.next()).value?.length,
      100 + 64 * 1024,
      'the first read: the chunk and 64 KiB of look-ahead',
    );
    await writeFile(path, 'a\n'.repeat(50_000)); // longer than the first read, now with newlines in it
    await rejectsWith(
      (async () => {
        for await (const _ of chunks);
      })(),
      PartitionError,
      ['object "tmp/y.txt" in bucket "lib" changed since it was planned'],
    );
  });

  it('the worker side reads partitions without loading an SDK, a bundler or the client-side planner', async () => {
    const [spec] = await planPartitions('fs://lib/books/a.txt', { objChunkNumber: 1 }, ctx);
    const reader = fileURLToPath(new URL('../../src/partition/reader.ts', import.meta.url));
    const hook = fileURLToPath(new URL('./import-trace-hook.mjs', import.meta.url));
    const script = `
      const { toCallInput } = await import(${JSON.stringify(reader)});
      const p = toCallInput(${JSON.stringify(markPartition(spec!))});
      const lines = [];
      for await (const l of p.lines()) lines.push(l);
      console.log(JSON.stringify(lines));`;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', '--import', hook, '--input-type=module', '-e', script],
        (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })),
      ),
    );
    assert.deepEqual(JSON.parse(stdout), ['the quick brown fox', 'jumps over', 'the lazy dog']);
    assert.ok(!stderr.includes('FORBIDDEN-IMPORT'), stderr);
  });
});
