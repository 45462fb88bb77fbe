/**
 * Core benchmark (issue 16): whole processes, from `node script.mjs` to exit, timed by spawn-and-wait.
 * Every contender (bench/core/*.mjs) loads the same kernel file bench/core/kernels.cjs: a plain loop,
 * piscina (one thread per core, plain .mjs, no tsx), faast.js local mode, two bare node processes each
 * running half of the inputs (the limit for two cores) and Burst imported as a consumer would
 * (`import 'burst-compute'`, i.e. the built dist/ through package.json's exports), with its default
 * worker threads and again with `isolation: 'process'`.
 *
 * Each workload runs its contenders round-robin, `--runs` rounds, the order turning each round, so
 * load from other processes falls on all of them alike; the tables show medians, and the targets
 * also the median over rounds of the ratio of two contenders' times within one round (paired).
 * Every timed run prints a checksum, checked against the loop's (computed here from the same kernel
 * file), and the client's peak RSS. Before a workload's rounds each contender runs once on 2 inputs
 * (untimed): files are in the page cache and Burst's bundle cache holds that kernel, as on a user's
 * second run. Writes bench/results/core.json and rewrites the marked block of README.md from the same
 * run. Never asserts a time.
 *
 *   npm run bench:core                  (from the repository root: builds dist/ if stale, installs, runs)
 *   node --import tsx core.ts [--quick] [--runs 5] [--no-readme] [--no-faast]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pairedDifference, renderCore, type Measure, type Row } from './core-table.ts';

const here = new URL('.', import.meta.url).pathname;
const repo = new URL('..', import.meta.url).pathname;
const dir = `${here}core/`;
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    readme: { type: 'boolean', default: true },
    'no-readme': { type: 'boolean', default: false },
    'no-faast': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const runs = Number(values.runs ?? (quick ? 2 : 5));
const withFaast = !values['no-faast'] && !quick && existsSync(`${here}node_modules/faastjs`);
const started = Date.now();

/** Newest modification time under a folder (skipping node_modules). */
function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let t = 0;
  for (const e of readdirSync(path)) if (e !== 'node_modules') t = Math.max(t, newest(join(path, e)));
  return t;
}

// The package as users get it: rebuild dist/ only when src/ or the build scripts changed since
// (the build writes the worker entry last).
const entry = `${repo}dist/bundle-worker/child.cjs`;
if (
  !existsSync(entry) ||
  newest(`${repo}src`) > statSync(entry).mtimeMs ||
  newest(`${repo}scripts`) > statSync(entry).mtimeMs
) {
  console.error('bench/core.ts: dist/ is missing or older than src/: npm run build');
  const b = spawnSync('npm', ['run', 'build'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  if (b.status !== 0) throw new Error('bench/core.ts: npm run build failed');
}
// Contenders import 'burst-compute' like a user's project: link the repository in as that package.
mkdirSync(`${dir}node_modules`, { recursive: true });
if (!existsSync(`${dir}node_modules/burst-compute`)) symlinkSync('../../..', `${dir}node_modules/burst-compute`);
// bench/node_modules (piscina, faastjs) is found from bench/core by Node's upward lookup.

const node = process.execPath;
type Argv = string[];
/** The processes of one contender's run: most are one `node <name>.mjs kernel n`. */
const contenders: Record<string, (kernel: string, n: number) => Argv[]> = {
  loop: (k, n) => [['loop.mjs', k, String(n)]],
  bare: (k, n) => {
    const half = Math.floor(n / 2);
    return [
      ['loop.mjs', k, String(half), '0'],
      ['loop.mjs', k, String(n), String(half)],
    ];
  },
  piscina: (k, n) => [['piscina.mjs', k, String(n)]],
  faast: (k, n) => [['faast.mjs', k, String(n)]],
  burst: (k, n) => [['burst.mjs', k, String(n)]],
  burstProcess: (k, n) => [['burst-process.mjs', k, String(n)]],
};

interface RunOut {
  seconds: number;
  check: number;
  maxRssMB: number;
}

/** Spawns the processes, waits for all to exit; wall time from the first spawn to the last exit. */
function runOnce(label: string, procs: Argv[]): Promise<RunOut> {
  const t0 = process.hrtime.bigint();
  return Promise.all(
    procs.map(
      (argv) =>
        new Promise<{ out: string; code: number | null; err: string }>((resolve) => {
          const child = spawn(node, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.on('data', (d: Buffer) => (out += d));
          child.stderr.on('data', (d: Buffer) => (err = (err + d).slice(-4000)));
          child.on('close', (code) => resolve({ out, code, err }));
        }),
    ),
  ).then((all) => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    let check = 0;
    let maxRssMB = 0;
    for (const p of all) {
      if (p.code !== 0) throw new Error(`${label}: exited ${p.code}\n${p.err}`);
      for (const line of p.out.split('\n').filter((l) => l.trim() !== '')) {
        const r = JSON.parse(line) as { check: number; maxRssMB: number };
        check += r.check;
        maxRssMB = Math.max(maxRssMB, r.maxRssMB);
      }
    }
    return { seconds, check, maxRssMB };
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function summarize(command: string, outs: RunOut[]): Measure {
  const xs = outs.map((o) => o.seconds);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    command,
    median: median(xs),
    mean,
    stddev: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length),
    min: Math.min(...xs),
    max: Math.max(...xs),
    runs: xs.length,
    samples: xs,
    maxRssMB: Math.max(...outs.map((o) => o.maxRssMB)),
  };
}

/** The checksum of the loop, computed in this process from the same kernel file. */
async function expectedCheck(kernel: string, n: number): Promise<number> {
  const k = (await import(`${dir}kernels.cjs`)).default as Record<
    string,
    (x: number) => number | { mean: number; above: number }
  >;
  let check = 0;
  for (let i = 0; i < n; i++) {
    const r = k[kernel]?.(i) as number | { mean: number; above: number };
    check += typeof r === 'number' ? r : r.above + Math.round(r.mean * 1e6);
  }
  return check;
}

/**
 * One workload: each contender warmed on 2 inputs, then `times` rounds over the contenders in turn
 * (a contender listed in `once` runs in the first round only). Every run's checksum is checked.
 */
async function workload(kernel: string, n: number, names: string[], times: number, once: string[] = []): Promise<Row> {
  const check = await expectedCheck(kernel, n);
  const warm = await expectedCheck(kernel, 2);
  for (const c of names) {
    if (once.includes(c)) continue; // the slow one-run contender: its only run is its warm-up too
    const w = await runOnce(`${c} ${kernel} 2 (warm-up)`, contenders[c]?.(kernel, 2) ?? []);
    if (w.check !== warm) throw new Error(`${c} ${kernel} 2: checksum ${w.check}, the loop's is ${warm}`);
  }
  const outs: Record<string, RunOut[]> = {};
  // The order turns each round, so no contender always runs right after the same one (a neighbour's
  // exit, the page cache and the VM's slower stretches fall on every position alike).
  for (let round = 0; round < times; round++)
    for (const c of names.map((_, i) => names[(i + round) % names.length] as string)) {
      if (round > 0 && once.includes(c)) continue;
      const label = `${c} ${kernel} ${n}`;
      const r = await runOnce(label, contenders[c]?.(kernel, n) ?? []);
      if (r.check !== check) throw new Error(`${label}: checksum ${r.check}, the loop's is ${check}`);
      (outs[c] ??= []).push(r);
    }
  const row: Row = { n };
  for (const c of names) {
    const command = (contenders[c]?.(kernel, n) ?? []).map((a) => `node ${a.join(' ')}`).join(' & ');
    const m = summarize(command, outs[c] ?? []);
    row[c] = m;
    console.error(
      `${c} ${kernel} ${n}: median ${m.median.toFixed(3)} s (${m.runs} runs, ${m.min.toFixed(3)}–${m.max.toFixed(3)}), peak RSS ${m.maxRssMB} MB`,
    );
  }
  return row;
}

/**
 * `node -e 0` against importing the package, back to back, 4×runs pairs: this VM starts a process in
 * ~70–90 ms or in ~120–150 ms at random, so the cost is the median of each pair's difference.
 */
async function importCost(): Promise<{ bare: Measure; package: Measure }> {
  const bare = ['-e', '0'];
  const pkg = ['--input-type=module', '-e', 'import \'burst-compute\'; console.log(\'{"check":0,"maxRssMB":0}\')'];
  await runOnce('import (warm-up)', [pkg]);
  const a: RunOut[] = [];
  const b: RunOut[] = [];
  for (let i = 0; i < 4 * runs; i++) {
    a.push(await runOnce('node -e 0', [bare]));
    b.push(await runOnce("import 'burst-compute'", [pkg]));
  }
  const r = {
    bare: summarize('node -e 0', a),
    package: summarize(`node --input-type=module -e "import 'burst-compute'"`, b),
  };
  console.error(
    `import: ${(1000 * (pairedDifference(r.package, r.bare) ?? 0)).toFixed(0)} ms over node -e 0 (paired; ${(1000 * (r.package.median - r.bare.median)).toFixed(0)} ms between the medians)`,
  );
  return r;
}

const load0 = loadavg()[0] as number;
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

report.import = await importCost();
const f = withFaast ? ['faast'] : [];
// faast.js takes seconds where the others take tenths: one run of it per workload, 1,000 tasks only.
report.trivial = await workload('addSeven', 1000, ['loop', 'piscina', 'burst', 'burstProcess', ...f], runs, f);
report.gbm = await workload('gbm', 1000, ['loop', 'bare', 'piscina', 'burst', 'burstProcess', ...f], runs, f);
report.gbmSizes = [
  await workload('gbm', 200, ['loop', 'bare', 'piscina', 'burst', 'burstProcess'], runs),
  // 10× the 1,000-task work: one round (the sequential loop, ~15 s per 1,000 tasks' twice, is left out).
  ...(quick ? [] : [await workload('gbm', 10_000, ['bare', 'piscina', 'burst'], 1)]),
];
// Throughput of trivial calls: Burst against piscina at 100,000; Burst alone at 10^6 (time, peak RSS).
report.throughput = [
  await workload('addSeven', 100_000, ['piscina', 'burst'], Math.min(runs, 3)),
  ...(quick ? [] : [await workload('addSeven', 1_000_000, ['burst'], 1)]),
];
report.loadAverage = { start: load0, end: loadavg()[0] };
report.seconds = Math.round((Date.now() - started) / 1000);

mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/core.json`, `${JSON.stringify(report, null, 2)}\n`);
const table = renderCore(report);
console.log(table);
console.error(`bench/core.ts: ${String(report.seconds)} s`);
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
