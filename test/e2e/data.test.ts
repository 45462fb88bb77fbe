/**
 * Map over data where it lives, through the executor: a prefix split into chunks, a chunked
 * mapReduce with one reducer per object, local paths, and clear errors for missing data.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, Storage, BurstError } from '../../src/index.ts';
import { countWords, sum } from '../fixtures/words.ts';

let root: string;
let fexec: FunctionExecutor;
const texts: Record<string, string> = {};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-data-'));
  fexec = new FunctionExecutor({ workers: 2, fs: { root }, progress: false });
  const storage = new Storage({ driver: 'fs', root });
  await storage.createBucket('data');
  for (let i = 0; i < 3; i++) {
    // Lines of varying length, one longer than a chunk, no final newline on the last object.
    const lines = Array.from({ length: 200 + i * 50 }, (_, j) =>
      Array.from({ length: (j % 13) + (j === 7 ? 400 : 0) }, (_, k) => `w${i}${j}${k}`).join(' '),
    );
    texts[`logs/part-${i}.txt`] = lines.join('\n') + (i === 2 ? '' : '\n');
    await storage.put('data', `logs/part-${i}.txt`, texts[`logs/part-${i}.txt`]!);
  }
  await storage.close();
});
after(async () => {
  await fexec.close();
  await rm(root, { recursive: true, force: true });
});

const words = (t: string): number => t.split(/\s+/).filter(Boolean).length;

test('map over a prefix in small chunks counts every word exactly once', async () => {
  const futures = await fexec.map(countWords, 'fs://data/logs/', { objChunkSize: 1000 });
  assert.ok(futures.length > 3, 'the objects were split into chunks');
  const total = (await fexec.getResult(futures)).reduce((a, b) => a + b, 0);
  assert.equal(
    total,
    Object.values(texts).reduce((a, t) => a + words(t), 0),
  );
});

test('a chunked mapReduce with one reducer per object', async () => {
  const futures = await fexec.mapReduce(countWords, ['fs://data/logs/part-0.txt', 'fs://data/logs/part-2.txt'], sum, {
    objChunkNumber: 4,
    reducerOnePerObject: true,
  });
  assert.deepEqual(await fexec.getResult(futures), [
    words(texts['logs/part-0.txt']!),
    words(texts['logs/part-2.txt']!),
  ]);
});

test('local paths and file:// folders are data too', async () => {
  const dir = join(root, 'local');
  await mkdir(dir);
  await writeFile(join(dir, 'a.txt'), 'one two\nthree\n');
  await writeFile(join(dir, 'b.txt'), 'four');
  assert.equal(sum(await fexec.getResult(await fexec.map(countWords, `file://${dir}/`))), 4);
  assert.deepEqual(await fexec.getResult(await fexec.map(countWords, [join(dir, 'b.txt')])), [1]);
});

test('dataInputs: false passes URI strings through as strings', async () => {
  assert.deepEqual(
    await fexec.getResult(
      await fexec.map((s: string) => s.length, ['fs://data/logs/part-0.txt'], { dataInputs: false }),
    ),
    [25],
  );
});

test('an empty prefix or a missing object fails before anything runs', async () => {
  await assert.rejects(
    fexec.map(countWords, 'fs://data/nothing-here/'),
    (e: unknown) => e instanceof BurstError && /nothing-here/.test(e.message),
  );
  await assert.rejects(
    fexec.map(countWords, ['fs://data/logs/missing.txt']),
    (e: unknown) => e instanceof BurstError && /missing\.txt/.test(e.message),
  );
  await assert.rejects(
    fexec.mapReduce(countWords, [1, 2] as unknown as string[], sum, { reducerOnePerObject: true }),
    /reducerOnePerObject needs data inputs/,
  );
});
