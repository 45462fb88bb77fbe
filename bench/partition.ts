/**
 * Partition benchmark (issue 4): word count of a generated text object (1 GiB by default) split into
 * 64 MiB chunks, end to end through `FunctionExecutor.map` on the fs store and on the Ceph gateway,
 * against `wc -w` on the same file in the same run; and the time to plan a prefix of 10,000 objects.
 * Prints JSON and writes bench/results/partition.json. Never asserts a time.
 *
 *   npm run build && node --import tsx bench/partition.ts [--size 1g] [--chunk 64m] [--objects 10000]
 *     [--runs 3] [--no-ceph] [--lines]
 *
 * BURST_DIST points at another build of Burst (default ../dist).
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DataPartition } from '../src/index.ts';
import { ensureCeph } from '../test/services.ts';
import { generateText, parseSize, wcWords, writeManyFiles } from './partition-data.ts';

const here = new URL('.', import.meta.url).pathname;
const dist = resolve(here, process.env.BURST_DIST ?? '../dist');
const burst = (await import(pathToFileURL(join(dist, 'index.js')).href)) as typeof import('../src/index.ts');
const { planPartitions } = (await import(
  pathToFileURL(join(dist, 'partition/planner.js')).href
)) as typeof import('../src/partition/planner.ts');

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const size = parseSize(arg('size', '1g'));
const chunk = parseSize(arg('chunk', '64m'));
const objects = Number(arg('objects', '10000'));
const runs = Number(arg('runs', '3'));
const withCeph = !process.argv.includes('--no-ceph');
const withLines = process.argv.includes('--lines');

/** The measured function: counts words (runs of non-whitespace bytes) in its chunk, streaming. */
async function countWords(p: DataPartition): Promise<number> {
  let words = 0;
  let inWord = false;
  for await (const chunk of p.stream()) {
    const b = chunk as Uint8Array;
    for (let i = 0; i < b.length; i++) {
      const c = b[i] as number;
      const space = c === 32 || (c >= 9 && c <= 13);
      if (!space && !inWord) words++;
      inWord = !space;
    }
  }
  return words;
}

/** The same count the way most users would write it: line by line with a regex split. */
async function countWordsByLine(p: DataPartition): Promise<number> {
  let words = 0;
  for await (const line of p.lines()) {
    for (const w of line.split(/\s+/)) if (w !== '') words++;
  }
  return words;
}

type Fexec = InstanceType<typeof burst.FunctionExecutor>;

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** Runs the word count `runs` times over `uri`; the first run includes packaging and worker start. */
async function burstWordCount(
  fexec: Fexec,
  uri: string,
  fn: typeof countWords | typeof countWordsByLine,
  times: number,
  expected: number,
): Promise<Record<string, unknown>> {
  const seconds: number[] = [];
  let calls = 0;
  for (let i = 0; i < times; i++) {
    const r = await timed(async () => {
      const futures = await fexec.map(fn, uri, { objChunkSize: chunk });
      calls = futures.length;
      return (await fexec.getResult(futures)).reduce((a: number, b: number) => a + b, 0);
    });
    if (r.value !== expected) throw new Error(`burst counted ${r.value} words in ${uri}, wc -w ${expected}`);
    seconds.push(r.seconds);
    console.error(`  ${uri} ${fn.name}: ${r.seconds.toFixed(2)} s (${(size / 2 ** 20 / r.seconds).toFixed(0)} MiB/s)`);
  }
  const best = Math.min(...seconds);
  return { calls, seconds, bestSeconds: best, bestMiBps: size / 2 ** 20 / best };
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'burst-bench-partition-'));
  const report: Record<string, unknown> = {
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      locale: process.env.LC_ALL || process.env.LANG || '',
    },
    date: new Date().toISOString(),
    loadAverageAtStart: loadavg(),
    settings: { sizeBytes: size, chunkBytes: chunk, runs, workers: 2, dist },
  };
  const fexecs: Fexec[] = [];
  try {
    const store = join(root, 'store');
    await mkdir(join(store, 'bench'), { recursive: true });
    const file = join(store, 'bench', 'words.txt');
    const gen = await timed(() => generateText(file, size));
    console.error(`generated ${gen.value} bytes in ${gen.seconds.toFixed(1)} s`);

    // wc -w first (it also pulls the file into the page cache for everyone after it).
    const wc: Record<string, unknown> = {};
    let expected = -1;
    for (const locale of [undefined, 'C']) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await wcWords(file, locale);
        expected = r.words;
        times.push(r.seconds);
      }
      const best = Math.min(...times);
      wc[locale ?? 'environment'] = { seconds: times, bestSeconds: best, bestMiBps: size / 2 ** 20 / best };
    }
    report.words = expected;
    report.wc = wc;
    console.error('wc -w:', wc);
    const wcBest = Math.min(...Object.values(wc).map((w) => (w as { bestSeconds: number }).bestSeconds));

    const ceph = withCeph ? await ensureCeph() : { skip: '--no-ceph' };
    const s3 =
      'skip' in ceph
        ? undefined
        : {
            endpoint: ceph.endpoint,
            accessKeyId: ceph.accessKeyId,
            secretAccessKey: ceph.secretAccessKey,
            region: ceph.region,
          };
    const fexec = new burst.FunctionExecutor({
      progress: false,
      workers: 2,
      fs: { root: store },
      ...(s3 ? { s3 } : {}),
    });
    fexecs.push(fexec);

    const fsResult = await burstWordCount(fexec, 'fs://bench/words.txt', countWords, runs, expected);
    report.fs = { ...fsResult, fractionOfWc: wcBest / (fsResult.bestSeconds as number) };
    if (withLines) report.fsLines = await burstWordCount(fexec, 'fs://bench/words.txt', countWordsByLine, 1, expected);

    if (s3) {
      const driver = await burst.createStorage('s3', s3);
      const bucket = `burst-bench-part-${Date.now().toString(36)}`;
      await driver.createBucket(bucket);
      try {
        const up = await timed(() => driver.put(bucket, 'words.txt', createReadStream(file)));
        console.error(`uploaded to Ceph in ${up.seconds.toFixed(1)} s`);
        const cephResult = await burstWordCount(fexec, `s3://${bucket}/words.txt`, countWords, runs, expected);
        report.ceph = {
          ...cephResult,
          uploadSeconds: up.seconds,
          fractionOfWc: wcBest / (cephResult.bestSeconds as number),
        };
        report.cephPlanPrefix = await planCephPrefix(driver, bucket, s3, objects);
      } finally {
        await driver.delete(
          bucket,
          (async function* () {
            for await (const e of driver.list(bucket)) if ('key' in e) yield e.key;
          })(),
        );
        await driver.deleteBucket(bucket).catch(() => undefined);
        await driver.close?.();
      }
    } else {
      report.ceph = { skipped: (ceph as { skip: string }).skip };
    }

    // Planning a prefix of many objects (listing only).
    await writeManyFiles(join(store, 'bench', 'many'), objects);
    const fsDriver = await burst.createStorage('fs', { root: store });
    const plans: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await timed(() => planPartitions('fs://bench/many/', {}, { storage: fsDriver }));
      if (r.value.length !== objects) throw new Error(`planned ${r.value.length} partitions for ${objects} objects`);
      plans.push(r.seconds);
    }
    report.fsPlanPrefix = { objects, seconds: plans, bestSeconds: Math.min(...plans) };
    console.error('fs plan prefix:', report.fsPlanPrefix);
  } finally {
    for (const f of fexecs) await f.close();
    await rm(root, { recursive: true, force: true });
  }
  report.loadAverageAtEnd = loadavg(); // other work on the machine skews every figure above
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'partition.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

/** Puts `n` small objects under a prefix on Ceph and times planning it. */
async function planCephPrefix(
  driver: Awaited<ReturnType<typeof burst.createStorage>>,
  bucket: string,
  s3: Record<string, unknown>,
  n: number,
): Promise<Record<string, unknown>> {
  const put = await timed(async () => {
    for (let i = 0; i < n; i += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, n - i) }, (_, j) =>
          driver.put(bucket, `many/${String(i + j).padStart(5, '0')}.txt`, `object ${i + j}\n`),
        ),
      );
    }
  });
  const plans: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await timed(() => planPartitions(`s3://${bucket}/many/`, {}, { storage: driver, uriDefaults: { s3 } }));
    if (r.value.length !== n) throw new Error(`planned ${r.value.length} partitions for ${n} objects`);
    plans.push(r.seconds);
  }
  const result = { objects: n, putSeconds: put.seconds, seconds: plans, bestSeconds: Math.min(...plans) };
  console.error('ceph plan prefix:', result);
  return result;
}

await main();
