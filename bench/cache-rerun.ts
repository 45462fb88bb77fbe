/**
 * The result cache (issue 17): the same map of `--calls` calls that sleep `--ms` each, run twice with
 * `cache: true`, each time by a new executor (as a re-run of an unchanged pipeline would be). Measures
 * each run (map to last result) and writes bench/results/cache.json. Never asserts a time.
 *
 *   node --import tsx bench/cache-rerun.ts [--workers 4] [--calls 100] [--ms 200] [--channel ipc|storage]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FunctionExecutor } from '../src/index.ts';
import { sleepCall } from './speculative-tasks.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '4' },
    calls: { type: 'string', default: '100' },
    ms: { type: 'string', default: '200' },
    channel: { type: 'string', default: 'ipc' },
  },
});
const root = await mkdtemp(join(tmpdir(), 'burst-bench-cache-'));
const inputs = Array.from({ length: Number(values.calls) }, (_, i) => i);
const load = loadavg()[0] ?? 0;

async function run(label: string): Promise<Record<string, unknown>> {
  const fexec = new FunctionExecutor({
    workers: Number(values.workers),
    fs: { root },
    progress: false,
    cache: true,
    ...(values.channel === 'storage' ? { localhost: { channel: 'storage' as const } } : {}),
  });
  const t0 = performance.now();
  const futures = await fexec.map(sleepCall, inputs, { extraArgs: { ms: Number(values.ms), slow: [] } });
  await fexec.getResult(futures);
  const seconds = (performance.now() - t0) / 1000;
  await fexec.close(); // writes every cache entry
  const row = { label, seconds, cached: futures.filter((f) => f.stats.cached).length };
  console.log(JSON.stringify(row));
  return row;
}

const first = await run('first run (cache empty)');
const second = await run('second run (identical map)');
const result = {
  date: new Date().toISOString(),
  command: `node --import tsx bench/cache-rerun.ts --workers ${values.workers} --calls ${values.calls} --ms ${values.ms} --channel ${values.channel}`,
  loadAverageAtStart: load,
  first,
  second,
  secondOverFirst: (second.seconds as number) / (first.seconds as number),
};
await rm(root, { recursive: true, force: true });
const out = new URL(`./results/cache-${values.channel}.json`, import.meta.url).pathname;
await mkdir(new URL('./results/', import.meta.url).pathname, { recursive: true });
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out}`);
