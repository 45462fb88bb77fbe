/**
 * Speculative backups (issue 17): a map of 100 calls that sleep `--ms` each, where 3 calls sleep 20×
 * that on their first attempt only. Measures the job (map to last result) with and without
 * `speculative`, and with no stragglers at all, on a warm localhost pool of `--workers` processes,
 * and writes bench/results/speculative.json. Never asserts a time.
 *
 *   node --import tsx bench/speculative-backups.ts [--workers 100] [--ms 500] [--factor 1.5]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FunctionExecutor } from '../src/index.ts';
import { sleepCall, trivial } from './speculative-tasks.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '100' },
    calls: { type: 'string', default: '100' },
    ms: { type: 'string', default: '500' },
    factor: { type: 'string', default: '1.5' },
    percentile: { type: 'string', default: '0.75' },
  },
});
const calls = Number(values.calls);
const ms = Number(values.ms);
const slow = [Math.floor(calls * 0.1), Math.floor(calls * 0.5), Math.floor(calls * 0.9)];
const root = await mkdtemp(join(tmpdir(), 'burst-bench-spec-'));
const load = loadavg()[0] ?? 0;
const fexec = new FunctionExecutor({ workers: Number(values.workers), fs: { root }, progress: false });
const inputs = Array.from({ length: calls }, (_, i) => i);
// Start every worker process first: the runs below measure jobs, not process starts.
await fexec.getResult(await fexec.map(trivial, inputs));

async function job(label: string, stragglers: number[], speculative?: object): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const futures = await fexec.map(sleepCall, inputs, {
    extraArgs: { ms, slow: stragglers },
    ...(speculative ? { speculative } : {}),
  });
  await fexec.getResult(futures);
  const seconds = (performance.now() - t0) / 1000;
  const runs = Array.from(futures, (f) => ((f.stats.fnEnd ?? 0) - (f.stats.fnStart ?? 0)) / 1000).sort((a, b) => a - b);
  const median = runs[Math.floor((runs.length - 1) / 2)] ?? 0;
  const backups = futures.filter((f) => f.stats.backup !== undefined).length;
  const won = futures.filter((f) => f.stats.backup === 'won').length;
  const row = { label, seconds, medianCallSeconds: median, ratioToMedian: seconds / median, backups, won };
  console.log(JSON.stringify(row));
  return row;
}

const spec = { factor: Number(values.factor), percentile: Number(values.percentile), minSeconds: 0 };
const result = {
  date: new Date().toISOString(),
  command: `node --import tsx bench/speculative-backups.ts --workers ${values.workers} --calls ${calls} --ms ${ms} --factor ${values.factor} --percentile ${values.percentile}`,
  loadAverageAtStart: load,
  calls,
  ms,
  stragglers: slow,
  speculative: spec,
  noStragglers: await job('no stragglers, no backups', []),
  withoutBackups: await job('3 stragglers, no backups', slow),
  withBackups: await job('3 stragglers, speculative backups', slow, spec),
  withDefaultBackups: await job('3 stragglers, speculative: true (factor 3)', slow, { minSeconds: 0 }),
};
await fexec.close();
await rm(root, { recursive: true, force: true });
const out = new URL('./results/speculative.json', import.meta.url).pathname;
await mkdir(new URL('./results/', import.meta.url).pathname, { recursive: true });
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out}`);
