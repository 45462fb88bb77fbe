/**
 * Where Burst's time over piscina goes (issue 16), measured on whole processes like bench/core.ts
 * and with the same contender scripts and kernel file (bench/core/). Three parts:
 *
 * 1. Phases. Each run loads bench/core/timeline.cjs (BENCH_TIMELINE_FILE), which records (from the process's
 *    start) when the worker threads were constructed and when they had booted, when the results were
 *    reported and when the process exited, and the CPU time of the main thread, of the pool's
 *    workers and of the other threads (V8's GC and compiler helpers, libuv). Workloads: 2 GBM calls
 *    (start-up), 1,000 trivial calls, 1,000 GBM calls. Contenders take turns, `--runs` rounds; medians.
 * 2. Scavenges. One run of 1,000 GBM calls per contender with V8's --trace-gc and
 *    --trace-parallel-scavenge: how many scavenger tasks each young-generation collection used.
 * 3. The same Burst run as it is (a pool that fills the cores turns V8's parallel scavenges off,
 *    src/worker/scavenges.ts) and with `node --parallel-scavenge`, which keeps them on, taking turns:
 *    what those parallel scavenges cost.
 *
 * Writes bench/results/overhead.json and prints the tables. Never asserts a time.
 *
 *   npm run bench:overhead                 (from the repository root; builds dist/ if it is missing)
 *   node --import tsx overhead.ts [--runs 7]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { tracedGcs } from '../test/v8-gc-trace.ts';

const here = new URL('.', import.meta.url).pathname;
const dir = `${here}core/`;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);
// The package as users get it, linked in as bench/core.ts does (which also rebuilds dist/ when stale).
if (!existsSync(`${here}../dist/bundle-worker/child.cjs`)) {
  const b = spawnSync('npm', ['run', 'build'], { cwd: `${here}..`, stdio: ['ignore', 'ignore', 'inherit'] });
  if (b.status !== 0) throw new Error('bench/overhead.ts: npm run build failed');
}
mkdirSync(`${dir}node_modules`, { recursive: true });
if (!existsSync(`${dir}node_modules/burst-compute`)) symlinkSync('../../..', `${dir}node_modules/burst-compute`);

/** From bench/core/timeline.cjs, as times since the process started. */
interface Timeline {
  spawn: number[];
  booted: number[];
  results: number;
  exit: number;
  cpuMs: { main: number; workers: number; helpers: number };
  switches: { mainVoluntary: number; workersInvoluntary: number; helpersVoluntary: number };
}

interface Run {
  wallMs: number;
  stdout: string;
  timeline: Timeline | undefined;
}

const timelineFile = `${tmpdir()}/burst-bench-timeline-${process.pid}.jsonl`;

/** The timeline file's lines as one Timeline, times made relative to the process's start. */
function readTimeline(): Timeline | undefined {
  if (!existsSync(timelineFile)) return undefined;
  const lines = readFileSync(timelineFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  rmSync(timelineFile);
  const main = lines.find((l) => 'origin' in l) as (Omit<Timeline, 'booted'> & { origin: number }) | undefined;
  if (!main) return undefined;
  const at = (t: number): number => t - main.origin;
  return {
    ...main,
    spawn: main.spawn.map(at),
    booted: lines.filter((l) => 'booted' in l).map((l) => at(l.booted as number)),
    results: at(main.results),
    exit: at(main.exit),
  };
}

function run(args: string[]): Promise<Run> {
  const t0 = performance.now();
  rmSync(timelineFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BENCH_TIMELINE_FILE: timelineFile },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`node ${args.join(' ')}: exited ${code}\n${stderr.slice(-2000)}`));
      resolve({ wallMs: performance.now() - t0, stdout, timeline: readTimeline() });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

type Phases = Record<string, number>;

/** Medians of each phase over the runs of one contender. */
function phasesOf(timelines: Timeline[]): Phases {
  const pick = (f: (t: Timeline) => number): number => Math.round(median(timelines.map(f)));
  return {
    firstSpawnMs: pick((t) => Math.min(...t.spawn)),
    lastBootedMs: pick((t) => Math.max(...t.booted)),
    resultsMs: pick((t) => t.results),
    exitMs: pick((t) => t.exit),
    mainCpuMs: pick((t) => t.cpuMs.main),
    workersCpuMs: pick((t) => t.cpuMs.workers),
    helpersCpuMs: pick((t) => t.cpuMs.helpers),
    mainWakeups: pick((t) => t.switches.mainVoluntary),
    workersPreempted: pick((t) => t.switches.workersInvoluntary),
    helperWakeups: pick((t) => t.switches.helpersVoluntary),
  };
}

const contenders = ['burst', 'piscina'];
const workloads: Array<[string, number]> = [
  ['gbm', 2],
  ['addSeven', 1000],
  ['gbm', 1000],
];
const started = Date.now();
const load = loadavg()[0];
const phases: Record<string, Record<string, Phases & { wallMs: number }>> = {};

// Part 1: phases, contenders taking turns (one untimed run each first: page cache, bundle cache).
for (const [kernel, n] of workloads) {
  const name = `${kernel} ${n}`;
  const timelines: Record<string, Timeline[]> = {};
  const walls: Record<string, number[]> = {};
  for (const c of contenders) await run([`${c}.mjs`, kernel, String(n)]);
  for (let r = 0; r < runs; r++)
    for (const c of contenders) {
      const out = await run([`${c}.mjs`, kernel, String(n)]);
      if (!out.timeline) throw new Error(`${c} ${name}: no timeline`);
      (timelines[c] ??= []).push(out.timeline);
      (walls[c] ??= []).push(out.wallMs);
    }
  phases[name] = {};
  for (const c of contenders)
    phases[name][c] = { wallMs: Math.round(median(walls[c] ?? [])), ...phasesOf(timelines[c] ?? []) };
  console.error(`phases ${name}: ${JSON.stringify(phases[name])}`);
}

// Part 2: scavenger tasks per scavenge (V8 prints its GC traces on stdout).
const scavenges: Record<string, Record<string, number>> = {};
for (const c of contenders) {
  const out = await run(['--trace-gc', '--trace-parallel-scavenge', `${c}.mjs`, 'gbm', '1000']);
  const histogram: Record<string, number> = {};
  for (const gc of tracedGcs(out.stdout))
    if (gc.kind === 'scavenge') histogram[gc.tasks] = (histogram[gc.tasks] ?? 0) + 1;
  scavenges[c] = histogram;
  console.error(`scavenger tasks per scavenge, ${c} gbm 1000: ${JSON.stringify(histogram)}`);
}

// Part 3: Burst as it is (serial scavenges) and with parallel scavenges kept on, taking turns.
const variants: Record<string, string[]> = {
  serialScavenges: ['burst.mjs', 'gbm', '1000'],
  parallelScavenges: ['--parallel-scavenge', 'burst.mjs', 'gbm', '1000'],
};
const ab: Record<string, { wallMs: number; cpuMs: number; helperWakeups: number }> = {};
const abRuns: Record<string, Run[]> = {};
for (let r = 0; r < runs; r++)
  for (const [v, args] of Object.entries(variants)) (abRuns[v] ??= []).push(await run(args));
for (const [v, list] of Object.entries(abRuns)) {
  const tl = list.map((o) => o.timeline as Timeline);
  ab[v] = {
    wallMs: Math.round(median(list.map((o) => o.wallMs))),
    cpuMs: Math.round(median(tl.map((t) => t.cpuMs.main + t.cpuMs.workers + t.cpuMs.helpers))),
    helperWakeups: Math.round(median(tl.map((t) => t.switches.helpersVoluntary))),
  };
}
console.error(`burst gbm 1000, serial / parallel scavenges: ${JSON.stringify(ab)}`);

const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgBefore: load };
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(
  `${here}results/overhead.json`,
  `${JSON.stringify({ date: new Date().toISOString(), runs, seconds: Math.round((Date.now() - started) / 1000), machine, phases, scavenges, parallelScavenge: ab }, null, 2)}\n`,
);

// The tables, for the README's "Where the time goes" and the notes.
const cols = [
  'wallMs',
  'firstSpawnMs',
  'lastBootedMs',
  'resultsMs',
  'exitMs',
  'mainCpuMs',
  'workersCpuMs',
  'helpersCpuMs',
  'helperWakeups',
  'workersPreempted',
] as const;
console.log(`| workload | contender | ${cols.join(' | ')} |`);
console.log(`|---|---|${cols.map(() => '---:').join('|')}|`);
for (const [name, byC] of Object.entries(phases))
  for (const [c, p] of Object.entries(byC)) console.log(`| ${name} | ${c} | ${cols.map((k) => p[k]).join(' | ')} |`);
console.log(`\nscavenger tasks per scavenge (gbm 1000): ${JSON.stringify(scavenges)}`);
console.log(`burst gbm 1000, serial / parallel scavenges: ${JSON.stringify(ab)}`);
console.log(
  `\n(${runs} rounds, ${Math.round((Date.now() - started) / 1000)} s, load average before ${load.toFixed(2)})`,
);
