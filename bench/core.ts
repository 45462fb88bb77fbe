/**
 * Core benchmark (issue 16): whole processes, from `node script.mjs` to exit, timed by hyperfine.
 * Every contender (bench/core/*.mjs) loads the same kernel file bench/core/kernels.cjs: a plain loop,
 * piscina (one thread per core, plain .mjs, no tsx), faast.js local mode, two bare node processes each
 * running half of the inputs (the limit for two cores) and Burst imported as a consumer would
 * (`import 'burst-compute'`). Each command runs once first to check that it computed the same
 * checksum as the loop (and to record its peak RSS), then `--runs` times under hyperfine; the tables
 * show medians. Writes bench/results/core.json and rewrites the marked block of README.md from the
 * same run. Never asserts a time.
 *
 *   npm run bench:core                  (from the repository root: build, install, run)
 *   node --import tsx core.ts [--quick] [--runs 5] [--no-readme]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { renderCore, type Measure, type Row } from './core-table.ts';

const here = new URL('.', import.meta.url).pathname;
const repo = new URL('..', import.meta.url).pathname;
const dir = `${here}core/`;
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    readme: { type: 'boolean', default: true },
    'no-readme': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const runs = Number(values.runs ?? (quick ? 2 : 5));
// faast.js is slower than the rest by an order of magnitude: fewer runs keep the benchmark short.
const faastRuns = Math.min(runs, 2);

if (!existsSync(`${repo}dist/index.js`)) throw new Error('bench/core.ts: run `npm run build` first');
// Contenders import 'burst-compute' like a user's project: link the repository in as that package.
mkdirSync(`${dir}node_modules`, { recursive: true });
if (!existsSync(`${dir}node_modules/burst-compute`)) symlinkSync('../../..', `${dir}node_modules/burst-compute`);
// bench/node_modules (piscina, faastjs) is found from bench/core by Node's upward lookup.

const node = process.execPath;
const contender = (name: string, kernel: string, n: number): string => `${node} ${name}.mjs ${kernel} ${n}`;
const bare = (kernel: string, n: number): string => {
  const half = Math.floor(n / 2);
  return `sh -c '${node} loop.mjs ${kernel} ${half} 0 & ${node} loop.mjs ${kernel} ${n} ${half} & wait'`;
};

/** Runs once for the checksum and RSS (any failure or mismatch throws), then hyperfine. */
function measure(label: string, command: string, expected: number | undefined, times = runs): Measure {
  const once = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8', maxBuffer: 2 ** 26 });
  if (once.status !== 0) throw new Error(`${label}: exited ${once.status}\n${once.stderr}`);
  const lines = once.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { check: number; n: number; maxRssMB: number });
  const check = lines.reduce((s, l) => s + l.check, 0);
  if (expected !== undefined && check !== expected)
    throw new Error(`${label}: checksum ${check}, the loop's is ${expected}`);
  const out = `${dir}.hyperfine.json`;
  const h = spawnSync('hyperfine', ['--runs', String(times), '--style', 'none', '--export-json', out, command], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (h.status !== 0) throw new Error(`${label}: hyperfine exited ${h.status}`);
  const r = (JSON.parse(readFileSync(out, 'utf8')) as { results: Array<Record<string, number>> }).results[0]!;
  rmSync(out, { force: true });
  const m: Measure = {
    command,
    median: r.median!,
    mean: r.mean!,
    stddev: r.stddev ?? 0,
    min: r.min!,
    max: r.max!,
    runs: times,
    maxRssMB: lines.length === 1 ? lines[0]!.maxRssMB : undefined,
  };
  console.error(`${label}: median ${m.median.toFixed(3)} s (${times} runs, ${m.min.toFixed(3)}–${m.max.toFixed(3)})`);
  return m;
}

/** The checksum of the loop, computed in this process from the same kernel file. */
async function expectedCheck(kernel: 'addSeven' | 'gbm', n: number): Promise<number> {
  const k = (await import(`${dir}kernels.cjs`)).default as Record<
    string,
    (x: number) => number | { mean: number; above: number }
  >;
  let check = 0;
  for (let i = 0; i < n; i++) {
    const r = k[kernel]!(i);
    check += typeof r === 'number' ? r : r.above + Math.round(r.mean * 1e6);
  }
  return check;
}

const load0 = loadavg()[0]!;
const report: Record<string, unknown> = {
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  date: new Date().toISOString(),
  runs,
};

// Import cost of the package alone, from a consumer.
report.import = {
  bare: measure('node -e 0', `${node} -e 0`, undefined, runs * 2),
  package: measure(
    "import 'burst-compute'",
    `${node} --input-type=module -e "import 'burst-compute'"`,
    undefined,
    runs * 2,
  ),
};

const trivialN = 1000;
const trivialCheck = await expectedCheck('addSeven', trivialN);
const trivial: Row = { n: trivialN };
for (const c of ['loop', 'piscina', 'faast', 'burst'])
  trivial[c] = measure(
    `${c} addSeven ${trivialN}`,
    contender(c, 'addSeven', trivialN),
    trivialCheck,
    c === 'faast' ? faastRuns : runs,
  );
report.trivial = trivial;

async function gbmRow(n: number, withFaast: boolean, times = runs): Promise<Row> {
  const check = await expectedCheck('gbm', n);
  const row: Row = { n };
  row.loop = measure(`loop gbm ${n}`, contender('loop', 'gbm', n), check, times);
  row.bare = measure(`2 bare gbm ${n}`, bare('gbm', n), check, times);
  row.piscina = measure(`piscina gbm ${n}`, contender('piscina', 'gbm', n), check, times);
  if (withFaast) row.faast = measure(`faast gbm ${n}`, contender('faast', 'gbm', n), check, Math.min(times, faastRuns));
  row.burst = measure(`burst gbm ${n}`, contender('burst', 'gbm', n), check, times);
  return row;
}
report.gbm = await gbmRow(1000, true);
report.gbmSizes = [await gbmRow(200, true), ...(quick ? [] : [await gbmRow(10_000, false, Math.min(runs, 2))])];

// Throughput of trivial calls: Burst against piscina at 100,000, Burst alone at 10^6 (peak RSS).
const many: Row[] = [];
for (const n of quick ? [100_000] : [100_000, 1_000_000]) {
  const check = await expectedCheck('addSeven', n);
  const row: Row = { n };
  if (n <= 100_000)
    row.piscina = measure(`piscina addSeven ${n}`, contender('piscina', 'addSeven', n), check, Math.min(runs, 3));
  row.burst = measure(
    `burst addSeven ${n}`,
    contender('burst', 'addSeven', n),
    check,
    n > 100_000 ? 1 : Math.min(runs, 3),
  );
  many.push(row);
}
report.throughput = many;
report.loadAverage = { start: load0, end: loadavg()[0] };

mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/core.json`, `${JSON.stringify(report, null, 2)}\n`);
const table = renderCore(report);
console.log(table);
if (values.readme && !values['no-readme'] && !quick) {
  const file = `${repo}README.md`;
  const readme = readFileSync(file, 'utf8');
  const start = '<!-- bench:core:start -->';
  const end = '<!-- bench:core:end -->';
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} block`);
  writeFileSync(file, `${readme.slice(0, a + start.length)}\n${table}\n${readme.slice(b)}`);
  console.error('README.md: core benchmark block rewritten');
}
