/**
 * Throughput of many trivial calls on the localhost backend (issue 15: the scheduler must keep
 * batching tiny calls). Runs the map `--runs` times in this process, prints each run's calls per
 * second and the median, and writes bench/results/throughput.json. Never asserts a time.
 *
 *   npm run build && node --import tsx bench/throughput.ts [--calls 100000] [--runs 5] [--workers 4] [--dist path/to/other/dist/index.js]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { trivial } from './schedule-tasks.ts';

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: '../dist/index.js' },
    calls: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    workers: { type: 'string', default: '4' },
  },
});
const n = Number(values.calls);
const here = new URL('.', import.meta.url).pathname;
// --dist points at another build (e.g. of the previous commit) for a before/after comparison.
const { FunctionExecutor } = (await import(
  new URL(values.dist, import.meta.url).href
)) as typeof import('../dist/index.js');
const inputs = Array.from({ length: n }, (_, i) => i);
const seconds: number[] = [];
const fexec = new FunctionExecutor({ workers: Number(values.workers), progress: false });
try {
  await fexec.getResult(await fexec.map(trivial, [0])); // start the workers and package the function once
  for (let run = 0; run < Number(values.runs); run++) {
    const t0 = performance.now();
    const out = await fexec.getResult(await fexec.map(trivial, inputs));
    seconds.push((performance.now() - t0) / 1000);
    if (out[n - 1] !== n) throw new Error('wrong result');
  }
} finally {
  await fexec.close();
}
const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)] as number;
const report = {
  calls: n,
  workers: Number(values.workers),
  seconds,
  medianSeconds: median,
  callsPerSecond: Math.round(n / median),
};
console.log(JSON.stringify(report));
await mkdir(`${here}results`, { recursive: true });
await writeFile(
  `${here}results/throughput.json`,
  `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`,
);
