/**
 * Heterogeneous work (issue 15): on 4 workers, 4 calls that busy-wait 1 s and 400 that busy-wait
 * 10 ms, with the long calls first or last in the inputs. Measures the whole map (submit to last
 * result) against the ideal schedule, max(longest call, total work / workers), and writes
 * bench/results/schedule.json. Never asserts a time.
 *
 *   npm run build && node --import tsx bench/schedule.ts [--runs 5] [--workers 4]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FunctionExecutor } from '../dist/index.js';
import { busy } from './schedule-tasks.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, workers: { type: 'string', default: '4' }, long: { type: 'string', default: '4' }, short: { type: 'string', default: '400' } } });
const workers = Number(values.workers);
const here = new URL('.', import.meta.url).pathname;
const longs = Array.from({ length: Number(values.long) }, () => 1000);
const shorts = Array.from({ length: Number(values.short) }, () => 10);
const orders = { longFirst: [...longs, ...shorts], longLast: [...shorts, ...longs] };
const totalMs = [...longs, ...shorts].reduce((a, b) => a + b, 0);
const idealSeconds = Math.max(1000, totalMs / workers) / 1000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const results: Record<string, { seconds: number[]; medianSeconds: number; ratioToIdeal: number }> = {};
const fexec = new FunctionExecutor({ workers, progress: false });
try {
  await fexec.getResult(await fexec.map(busy, Array.from({ length: workers }, () => 1))); // warm: processes and bundle
  for (const [name, inputs] of Object.entries(orders)) {
    const seconds: number[] = [];
    for (let run = 0; run < Number(values.runs); run++) {
      const t0 = performance.now();
      await fexec.getResult(await fexec.map(busy, inputs));
      seconds.push((performance.now() - t0) / 1000);
    }
    const m = median(seconds);
    results[name] = { seconds, medianSeconds: m, ratioToIdeal: Number((m / idealSeconds).toFixed(3)) };
  }
} finally {
  await fexec.close();
}
const report = { workers, calls: { long1s: longs.length, short10ms: shorts.length }, idealSeconds, results };
console.log(JSON.stringify(report, null, 2));
await mkdir(`${here}results`, { recursive: true });
await writeFile(`${here}results/schedule.json`, `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`);
