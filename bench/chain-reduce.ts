/**
 * Map-reduce of `--calls` calls of random durations (seeded) on the storage channel (issue 17): the
 * time from submission to the reducer's result, with `streamReduce` (the reducer starts at the first
 * map result and folds results as they complete) against waiting (the reducer gets the array once
 * all maps are done). The reducer spends `--step` ms per item. Target for streaming: the result
 * comes at most one last reduce step (plus the poll and status write) after the slowest map call ends.
 * Writes bench/results/chain-reduce.json. Never asserts.
 *
 *   npm run build && node --import tsx bench/chain-reduce.ts [--calls 200] [--min 100] [--max 2000] [--step 20] [--workers 4] [--chunksize 5]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createStorage, FunctionExecutor } from '../dist/index.js';
import { readJobStatuses } from '../dist/job/reader.js';
import { reduceArray, reduceStream, sleepFor } from './chain-tasks.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '200' },
    min: { type: 'string', default: '100' },
    max: { type: 'string', default: '2000' },
    step: { type: 'string', default: '20' },
    workers: { type: 'string', default: '4' },
    chunksize: { type: 'string', default: '5' },
    seed: { type: 'string', default: '17' },
  },
});
const here = new URL('.', import.meta.url).pathname;
const n = Number(values.calls);
const [lo, hi, step] = [Number(values.min), Number(values.max), Number(values.step)];
// A small LCG: the same durations on every run, so both modes get the same work.
let s = Number(values.seed);
const rand = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const durations = Array.from({ length: n }, () => Math.round(lo + rand() * (hi - lo)));

async function run(stream: boolean): Promise<Record<string, number>> {
  const root = await mkdtemp(join(tmpdir(), 'burst-bench-reduce-'));
  const fexec = new FunctionExecutor({
    fs: { root },
    workers: Number(values.workers),
    localhost: { channel: 'storage' },
    progress: false,
  });
  try {
    const t0 = Date.now();
    const o = { chunksize: Number(values.chunksize), extraArgs: { stepMs: step } };
    const reduced = stream
      ? await fexec.mapReduce(sleepFor, durations, reduceStream, { ...o, streamReduce: true })
      : await fexec.mapReduce(sleepFor, durations, reduceArray, o);
    const [r] = await reduced.getResult();
    const done = Date.now();
    if (r?.sum !== durations.reduce((a, b) => a + b, 0)) throw new Error('wrong sum');
    // The map futures are not returned by mapReduce: the slowest map call's end is read from the job's statuses.
    const storage = await createStorage('fs', { root });
    const statuses = await readJobStatuses(storage, fexec.options.bucket, `burst/jobs/${fexec.executorId}/M000`);
    const lastMapEnd = Math.max(...statuses.map((x) => x.stats.fnEnd ?? Number.NaN));
    const lastMapRunMs = Math.max(...statuses.map((x) => (x.stats.fnEnd ?? 0) - (x.stats.fnStart ?? 0)));
    return {
      seconds: (done - t0) / 1000,
      resultAfterLastMapEndMs: r.lastStepAt - lastMapEnd,
      lastMapEndSeconds: (lastMapEnd - t0) / 1000,
      reducerResultSeconds: (r.lastStepAt - t0) / 1000,
      slowestMapCallMs: lastMapRunMs,
      statuses: statuses.length,
    };
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
}

const streaming = await run(true);
const waiting = await run(false);
const report = {
  calls: n,
  durationsMs: { min: Math.min(...durations), max: Math.max(...durations), sum: durations.reduce((a, b) => a + b, 0) },
  reduceStepMs: step,
  workers: Number(values.workers),
  chunksize: Number(values.chunksize),
  streaming,
  waiting,
};
console.log(JSON.stringify(report, null, 2));
await mkdir(`${here}results`, { recursive: true });
await writeFile(`${here}results/chain-reduce.json`, `${JSON.stringify(report, null, 2)}\n`);
