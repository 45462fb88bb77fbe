/**
 * The risk analyst's Monte Carlo stock forecast, in parallel with Burst.
 *
 *   npx tsx examples/monte-carlo/main.ts                                  # 20,000 forecasts on 200 calls
 *   npx tsx examples/monte-carlo/main.ts --forecasts 100000 --calls 1000  # the PyWren-IBM size
 *   npx tsx examples/monte-carlo/main.ts --backend slurm --storage s3     # on a cluster
 *
 * Each call simulates its share of the price paths with `forecast` (./forecast.ts) from its own seed,
 * so a given `--seed` prints the same numbers on any backend and any number of workers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FunctionExecutor, type FutureList } from 'burst-compute';
import { forecast, type ForecastResult, type ForecastTask } from './forecast.js';
import { asciiHistogram, histogram, percentileTable, summarize } from './stats.js';
import { histogramSvg } from './svg.js';
import { executorFlags, executorFlagsHelp, executorOptions, parseFlags } from '../shared/executor-flags.js';

const HELP = `Usage: npx tsx examples/monte-carlo/main.ts [options]

  --forecasts N   price paths to simulate                 (default 20000; PyWren-IBM: 100000)
  --calls M       calls to spread them over                (default 200;   PyWren-IBM: 1000)
  --days D        trading days per path                    (default 1080)
  --seed S        seed of the whole run                    (default 1)
  --price P       starting price                           (default 100)
  --mu R          annual drift                             (default 0.05)
  --sigma V       annual volatility                        (default 0.2)
  --bins B        histogram bins                           (default 24)
  --svg FILE      where to write the SVG histogram         (default out/histogram.svg beside this file)
  --small         2,000 forecasts on 20 calls (the test size)
${executorFlagsHelp}`;

const flags = parseFlags(HELP, () =>
  parseArgs({
    options: {
      forecasts: { type: 'string' },
      calls: { type: 'string' },
      days: { type: 'string', default: '1080' },
      seed: { type: 'string', default: '1' },
      price: { type: 'string', default: '100' },
      mu: { type: 'string', default: '0.05' },
      sigma: { type: 'string', default: '0.2' },
      bins: { type: 'string', default: '24' },
      svg: { type: 'string' },
      small: { type: 'boolean', default: false },
      ...executorFlags,
    },
  }),
);

/** A flag as a number, or exit with a message naming it. */
function num(name: string, value: string | undefined, integer = true): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || (integer && (!Number.isInteger(n) || n < 0))) {
    console.error(`--${name} must be ${integer ? 'a non-negative integer' : 'a number'}, got ${value}`);
    process.exit(2);
  }
  return n;
}

/**
 * The tasks of the run: `forecasts` paths split as evenly as possible over `calls` calls. Call i gets
 * seed `base + i`: consecutive seeds of forecast's generator start far apart in its one cycle (more
 * than 1.8 million steps for up to 1,000 calls), so the calls' random streams do not overlap.
 */
function makeTasks(o: {
  forecasts: number;
  calls: number;
  days: number;
  seed: number;
  s0: number;
  mu: number;
  sigma: number;
}): ForecastTask[] {
  // forecast() multiplies the seed by a 32-bit constant in double precision: keep seeds below 2^22.
  const base = (o.seed * 1_000_003) % 2 ** 21;
  const per = Math.floor(o.forecasts / o.calls);
  const extra = o.forecasts % o.calls;
  return Array.from({ length: o.calls }, (_, i) => ({
    seed: base + i,
    paths: per + (i < extra ? 1 : 0),
    days: o.days,
    s0: o.s0,
    mu: o.mu,
    sigma: o.sigma,
  }));
}

/** Joins the calls' prices into one array per horizon, in call order. */
function concat(results: readonly ForecastResult[], key: 'mid' | 'final'): Float64Array {
  const out = new Float64Array(results.reduce((n, r) => n + r[key].length, 0));
  let at = 0;
  for (const r of results) {
    out.set(r[key], at);
    at += r[key].length;
  }
  return out;
}

/** Seconds the function ran, summed over calls, and the processes that ran them. */
function computeStats(futures: FutureList<ForecastResult>): { seconds: number; processes: number } {
  let ms = 0;
  const procs = new Set<string>();
  for (const f of futures) {
    if (f.stats.fnStart !== undefined && f.stats.fnEnd !== undefined) ms += f.stats.fnEnd - f.stats.fnStart;
    procs.add(`${f.stats.hostname}:${f.stats.pid}`);
  }
  return { seconds: ms / 1000, processes: procs.size };
}

async function main(): Promise<void> {
  const forecasts = num('forecasts', flags.forecasts ?? (flags.small ? '2000' : '20000'));
  const calls = num('calls', flags.calls ?? (flags.small ? '20' : '200'));
  const days = num('days', flags.days);
  if (calls < 1 || calls > forecasts || days < 2) {
    console.error(
      `need 1 <= --calls <= --forecasts and --days >= 2, got ${calls} calls, ${forecasts} forecasts, ${days} days`,
    );
    process.exit(2);
  }
  const o = {
    forecasts,
    calls,
    days,
    seed: num('seed', flags.seed),
    s0: num('price', flags.price, false),
    mu: num('mu', flags.mu, false),
    sigma: num('sigma', flags.sigma, false),
  };
  const bins = Math.max(1, num('bins', flags.bins));
  const options = executorOptions(flags);

  console.log(
    `Monte Carlo stock forecast: ${forecasts.toLocaleString('en')} forecasts × ${days.toLocaleString('en')} trading days on ${calls} calls, seed ${o.seed}`,
  );
  console.log(`start price ${o.s0}, drift ${o.mu}/year, volatility ${o.sigma}/year\n`);

  const fexec = new FunctionExecutor(options);
  let results: ForecastResult[];
  let futures: FutureList<ForecastResult>;
  const t0 = performance.now();
  try {
    futures = await fexec.map(forecast, makeTasks(o));
    results = await fexec.getResult(futures);
  } finally {
    await fexec.close();
  }
  const seconds = (performance.now() - t0) / 1000;

  const mid = summarize(concat(results, 'mid'));
  const final = summarize(concat(results, 'final'));
  const half = Math.floor(days / 2);
  console.log(
    percentileTable([
      { name: `day ${half}`, summary: mid.summary },
      { name: `day ${days}`, summary: final.summary },
    ]),
  );
  let losses = 0;
  for (const v of final.sorted) if (v < o.s0) losses++;
  console.log(`\nP(price on day ${days} < ${o.s0}) = ${((100 * losses) / forecasts).toFixed(2)}%`);
  const hFinal = histogram(final.sorted, bins);
  // The same price axis for both horizons, so that the plot shows the spread growing with time.
  const hMid = histogram(mid.sorted, bins, [hFinal.lo, hFinal.lo + bins * hFinal.width]);
  console.log(`\nprice on day ${days}:\n${asciiHistogram(hFinal)}`);

  const svgPath = resolve(flags.svg ?? resolve(dirname(fileURLToPath(import.meta.url)), 'out', 'histogram.svg'));
  const markers = (s: typeof mid.summary) =>
    [5, 50, 95].map((p) => ({ label: `p${p}`, value: s.percentiles.get(p) ?? NaN }));
  await mkdir(dirname(svgPath), { recursive: true });
  await writeFile(
    svgPath,
    histogramSvg(`${forecasts.toLocaleString('en')} forecasts, seed ${o.seed}`, [
      { title: `price on day ${half}`, histogram: hMid, markers: markers(mid.summary) },
      { title: `price on day ${days}`, histogram: hFinal, markers: markers(final.summary) },
    ]),
  );
  console.log(`\nwrote ${svgPath}`);

  const compute = computeStats(futures);
  console.log(
    `time ${seconds.toFixed(2)} s: ${calls} calls, ${(calls / seconds).toFixed(1)} calls/s, ${Math.round(forecasts / seconds).toLocaleString('en')} forecasts/s; ` +
      `the function ran ${compute.seconds.toFixed(2)} s in total on ${compute.processes} worker process${compute.processes === 1 ? '' : 'es'}`,
  );
}

await main();
