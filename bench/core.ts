/**
 * Core benchmark (issue 2): Burst's localhost backend against a plain loop, a bare worker-thread pool
 * (piscina) and faast.js local mode, in one run on this machine. Prints JSON and writes
 * bench/results/core.json. Never asserts a time.
 *
 *   npm run build && cd bench && npm install && node --import tsx core.ts [--quick] [--faast]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { build } from 'esbuild';
import { FunctionExecutor } from '../dist/index.js';
import { forecast } from '../examples/monte-carlo/forecast.ts';

const here = new URL('.', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const withFaast = process.argv.includes('--faast');
const threads = availableParallelism();
// faast.js forks its local workers with our execArgv from its own temp folder, where a bare
// `--import tsx` does not resolve: hand them tsx's absolute URL instead.
process.execArgv = process.execArgv.map((arg) => (arg === 'tsx' ? import.meta.resolve('tsx') : arg));

async function time<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function burstMap<I, R>(fn: (x: I) => R, inputs: I[]): Promise<Awaited<R>[]> {
  const fexec = new FunctionExecutor({ progress: false });
  try {
    return await fexec.getResult(await fexec.map(fn, inputs));
  } finally {
    await fexec.close();
  }
}

async function piscinaMap<R>(file: string, inputs: unknown[]): Promise<R[]> {
  const { Piscina } = await import('piscina');
  const pool = new Piscina({ filename: file, minThreads: threads, maxThreads: threads });
  try {
    return (await Promise.all(inputs.map((x) => pool.run(x)))) as R[];
  } finally {
    await pool.destroy();
  }
}

async function faastMap<R>(file: string, name: string, inputs: unknown[]): Promise<R[]> {
  const { faast } = await import('faastjs');
  const mod = (await import(file)) as Record<string, (x: unknown) => R>;
  const fm = await faast('local', mod);
  try {
    const fn = fm.functions[name] as (x: unknown) => Promise<R>;
    return await Promise.all(inputs.map((x) => fn(x)));
  } finally {
    await fm.cleanup();
  }
}

/** Builds the JS modules the baselines load (piscina and faast.js need plain JS files). */
async function buildWorkers(): Promise<{ trivial: string; forecastFile: string; faastModule: string }> {
  const out = `${here}.build`;
  await mkdir(out, { recursive: true });
  await writeFile(`${out}/trivial.mjs`, 'export default function addSeven(x) { return x + 7; }\n');
  await build({ stdin: { contents: `export { forecast as default } from '../examples/monte-carlo/forecast.ts';`, resolveDir: here, loader: 'ts' }, bundle: true, format: 'esm', platform: 'node', outfile: `${out}/forecast.mjs`, logLevel: 'error' });
  await build({ stdin: { contents: `export { forecast } from '../examples/monte-carlo/forecast.ts'; export function addSeven(x) { return x + 7; }`, resolveDir: here, loader: 'ts' }, bundle: true, format: 'cjs', platform: 'node', outfile: `${out}/faast-module.cjs`, logLevel: 'error' });
  return { trivial: `${out}/trivial.mjs`, forecastFile: `${out}/forecast.mjs`, faastModule: `${out}/faast-module.cjs` };
}

function sameResults(a: Array<{ mid: Float64Array; final: Float64Array }>, b: Array<{ mid: Float64Array; final: Float64Array }>): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) => {
    const o = b[i];
    return !!o && r.mid.every((v, j) => Object.is(v, o.mid[j])) && r.final.every((v, j) => Object.is(v, o.final[j]));
  });
}

async function main(): Promise<void> {
  const files = await buildWorkers();
  const report: Record<string, unknown> = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    date: new Date().toISOString(),
  };

  const trivial: Record<string, unknown> = {};
  for (const n of quick ? [1000] : [1000, 100_000]) {
    const inputs = range(n);
    const loop = await time(async () => inputs.map((x) => x + 7));
    const burst = await time(() => burstMap((x: number) => x + 7, inputs));
    const pool = await time(() => piscinaMap<number>(files.trivial, inputs));
    const row: Record<string, number | string> = {
      loopSeconds: loop.seconds,
      burstSeconds: burst.seconds,
      piscinaSeconds: pool.seconds,
      burstCallsPerSecond: Math.round(n / burst.seconds),
      burstOverPiscina: burst.seconds / pool.seconds,
    };
    if (withFaast && n <= 1000) {
      const faast = await time(() => faastMap<number>(files.faastModule, 'addSeven', inputs));
      row.faastSeconds = faast.seconds;
      row.burstSpeedupOverFaast = faast.seconds / burst.seconds;
    }
    if (JSON.stringify(burst.value) !== JSON.stringify(loop.value)) throw new Error(`burst returned wrong results for ${n} trivial calls`);
    trivial[String(n)] = row;
    console.error(`trivial ${n}:`, row);
  }
  report.trivial = trivial;

  const tasks = range(quick ? 200 : 1000);
  const loop = await time(async () => tasks.map((seed) => forecast(seed)));
  const burst = await time(() => burstMap(forecast, tasks));
  const pool = await time(() => piscinaMap<{ mid: Float64Array; final: Float64Array }>(files.forecastFile, tasks));
  const mc: Record<string, number | boolean> = {
    tasks: tasks.length,
    loopSeconds: loop.seconds,
    burstSeconds: burst.seconds,
    piscinaSeconds: pool.seconds,
    burstSpeedupOverLoop: loop.seconds / burst.seconds,
    piscinaSpeedupOverLoop: loop.seconds / pool.seconds,
    identicalResults: sameResults(loop.value, burst.value),
  };
  if (withFaast) {
    const faast = await time(() => faastMap<{ mid: Float64Array; final: Float64Array }>(files.faastModule, 'forecast', tasks));
    mc.faastSeconds = faast.seconds;
    mc.faastSpeedupOverLoop = loop.seconds / faast.seconds;
  }
  console.error('monte carlo:', mc);
  report.monteCarlo = mc;

  await mkdir(`${here}results`, { recursive: true });
  await writeFile(`${here}results/core.json`, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

await main();
