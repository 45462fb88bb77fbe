/**
 * Slurm benchmark (issue 5): time from `map` to all results on the two-node test cluster for 1,000
 * trivial calls and for the Monte Carlo workload, with the scheduler's part shown apart: from
 * submission to the start of the last worker process (from each call's stats), so the rest is
 * Burst's overhead plus the work. Writes bench/results/slurm.json. Needs the cluster from
 * scripts/services/slurm.sh and a built dist/.
 *
 *   npm run build && bash scripts/services/slurm.sh start && node --import tsx bench/slurm.ts [--chunksize 50] [--max-concurrency 2]
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FunctionExecutor, type Future } from '../dist/index.js';
import { forecast } from '../examples/monte-carlo/forecast.ts';

const { values } = parseArgs({
  options: {
    chunksize: { type: 'string', default: '50' },
    tasks: { type: 'string', default: '1000' },
    partition: { type: 'string', default: 'batch' },
    'max-concurrency': { type: 'string' },
  },
});
// The test cluster's two "nodes" share this machine's 2 cores: each workload runs unthrottled and
// with --max-concurrency (default 2), which keeps tasks from fighting over the cores.
let maxConcurrency: number | undefined;
const chunksize = Number(values.chunksize);
const here = new URL('.', import.meta.url).pathname;

async function measure<R>(
  name: string,
  run: (fexec: FunctionExecutor) => Promise<Future<R>[]>,
): Promise<Record<string, number | string>> {
  const root = await mkdtemp('/var/tmp/burst-bench-slurm-');
  const fexec = new FunctionExecutor({
    backend: 'slurm',
    fs: { root, shared: true },
    slurm: { partition: values.partition, ...(maxConcurrency ? { maxConcurrency } : {}) },
    progress: false,
  });
  try {
    const t0 = Date.now();
    const futures = await run(fexec);
    await fexec.getResult(futures);
    const total = (Date.now() - t0) / 1000;
    const lastStart = Math.max(...Array.from(futures, (f) => f.stats.workerStart ?? 0));
    const firstStart = Math.min(...Array.from(futures, (f) => f.stats.workerStart ?? Infinity));
    const work = futures.reduce((s, f) => s + ((f.stats.fnEnd ?? 0) - (f.stats.fnStart ?? 0)), 0) / 1000;
    const row = {
      workload: name,
      calls: futures.length,
      chunksize,
      maxConcurrency: maxConcurrency ?? 'unlimited',
      totalSeconds: total,
      schedulerToFirstWorkerSeconds: (firstStart - t0) / 1000,
      schedulerToLastWorkerSeconds: (lastStart - t0) / 1000,
      sumOfCallSeconds: work,
      hosts: new Set(Array.from(futures, (f) => f.stats.hostname)).size,
    };
    console.error(row);
    return row;
  } finally {
    await fexec.close();
  }
}

const tasks = Number(values.tasks);
const rows = [];
for (const limit of [undefined, Number(values['max-concurrency'] ?? 2)]) {
  maxConcurrency = limit;
  rows.push(
    await measure('1,000 trivial calls', (f) =>
      f.map(
        (x: number) => x + 7,
        Array.from({ length: 1000 }, (_, i) => i),
        { chunksize },
      ),
    ),
  );
  rows.push(
    await measure(`Monte Carlo, ${tasks} tasks`, (f) =>
      f.map(
        forecast,
        Array.from({ length: tasks }, (_, i) => i),
        { chunksize },
      ),
    ),
  );
}
await mkdir(`${here}results`, { recursive: true });
const report = {
  date: new Date().toISOString(),
  cluster: 'two slurmd nodes in network namespaces on one 2-core machine',
  rows,
};
await writeFile(`${here}results/slurm.json`, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
