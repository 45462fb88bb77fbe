/**
 * The fan-out model, one command (`npm run bench:fanout`): starts the modelled platform
 * (platform.ts), runs each scenario in a fresh client process (client.ts), and writes
 * `bench/fanout/results/<label>.json` and the table between this label's markers in
 * `bench/fanout/README.md`. Options: `--label <name>` (default `after`), `--only <scenario,...>`.
 */
import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARAMS } from './params.ts';
import type { PlatformReady } from './platform.ts';
import type { LambdaCounts } from './lambda-model.ts';
import type { StorageCounts } from './storage-model.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const label = arg('label') ?? 'after';

interface Scenario {
  name: string;
  calls: number;
  workMs: number;
  resultBytes: number;
}

const mc = PARAMS.montecarlo;
export const SCENARIOS: Scenario[] = [
  { name: '1,000 calls', calls: 1000, workMs: 100, resultBytes: 64 },
  { name: '10,000 calls', calls: 10_000, workMs: 100, resultBytes: 64 },
  {
    name: `Monte Carlo (${mc.forecasts.toLocaleString('en-US')} forecasts / ${mc.calls.toLocaleString('en-US')} calls)`,
    calls: mc.calls,
    workMs: (mc.forecasts / mc.calls) * mc.secondsPerForecast * 1000,
    resultBytes: mc.resultBytes,
  },
];

interface ClientOut {
  t0: number;
  mappedAt: number;
  doneAt: number;
  cpuMs: number;
  mapCpuMs: number;
  peakRssMB: number;
  bad: number;
  counters: Record<string, number>;
  collectLagMs: { p50: number; p90: number; max: number };
  lastStoredAt: number;
}

interface Counts {
  storage: StorageCounts;
  lambda: LambdaCounts;
  cpu: NodeJS.CpuUsage;
}

type Platform = ReturnType<typeof fork>;

function ask<T>(p: Platform, t: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { t: string }): void => {
      if (m.t !== t) return;
      p.off('message', on);
      resolve(m as T);
    };
    p.on('message', on);
    p.send({ t });
  });
}

function runClient(args: object): Promise<ClientOut> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        ...(arg('prof') ? ['--cpu-prof', '--cpu-prof-dir', arg('prof') as string] : []),
        join(here, 'client.ts'),
        JSON.stringify(args),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`client exited with ${code}: ${out}`));
      resolve(JSON.parse(line) as ClientOut);
    });
  });
}

/** Sums counters whose label (`origin KIND class`) matches. */
function sum(r: Record<string, number>, test: (origin: string, kind: string, cls: string) => boolean): number {
  let n = 0;
  for (const [k, v] of Object.entries(r)) {
    const [origin = '', kind = '', cls = ''] = k.split(' ');
    if (test(origin, kind, cls)) n += v;
  }
  return n;
}

function summarize(s: Scenario, c: ClientOut, counts: Counts, load: number[], platformCpuS: number) {
  const req = counts.storage.requests;
  const perCall = (test: Parameters<typeof sum>[1]): number => Number((sum(req, test) / s.calls).toFixed(2));
  const kinds = ['PUT', 'GET', 'LIST', 'HEAD', 'DELETE'];
  const lists = counts.storage.clientListsBySecond;
  const activeS = Math.max(1, (c.doneAt - c.t0) / 1000);
  return {
    scenario: s.name,
    calls: s.calls,
    workMs: s.workMs,
    invokedS: (counts.lambda.lastAcceptedAt - c.t0) / 1000,
    mapReturnedS: (c.mappedAt - c.t0) / 1000,
    allRunningS: (counts.lambda.lastFnStartAt - c.t0) / 1000,
    wallS: (c.doneAt - c.t0) / 1000,
    /** From the last status written to the last result in the client's hands. */
    lastStatusToDoneS: (c.doneAt - c.lastStoredAt) / 1000,
    collectLagMs: c.collectLagMs,
    clientCpuS: c.cpuMs / 1000,
    clientMapCpuS: c.mapCpuMs / 1000,
    clientPeakRssMB: Math.round(c.peakRssMB),
    requestsPerCall: perCall(() => true),
    requestsPerCallByKind: Object.fromEntries(kinds.map((k) => [k, perCall((_, kind) => kind === k)])),
    clientRequestsPerCall: perCall((o) => o === 'client'),
    workerRequestsPerCall: perCall((o) => o === 'worker'),
    requestsByLabel: req,
    pollListRequests: sum(req, (o, k) => o === 'client' && k === 'LIST'),
    pollListPerSecond: Number((sum(req, (o, k) => o === 'client' && k === 'LIST') / activeS).toFixed(2)),
    pollListPeakPerSecond: Math.max(0, ...lists),
    polls: c.counters['storage.list'] ?? 0,
    listPagesPerPoll: Number(
      (sum(req, (o, k) => o === 'client' && k === 'LIST') / Math.max(1, c.counters['storage.list'] ?? 0)).toFixed(2),
    ),
    statusGets: sum(req, (o, k, cls) => o === 'client' && k === 'GET' && cls === 'status'),
    slowDowns: sum(counts.storage.slowDowns, () => true),
    peakWritesPerPrefixPerS: Math.max(
      0,
      ...Object.entries(counts.storage.peakPerPrefix)
        .filter(([k]) => k.startsWith('w:'))
        .map(([, v]) => v),
    ),
    peakReadsPerPrefixPerS: Math.max(
      0,
      ...Object.entries(counts.storage.peakPerPrefix)
        .filter(([k]) => k.startsWith('r:'))
        .map(([, v]) => v),
    ),
    peakPerPrefix: counts.storage.peakPerPrefix,
    slowDownsByLabel: counts.storage.slowDowns,
    throttled429: counts.lambda.throttled,
    coldStarts: counts.lambda.coldStarts,
    warmStarts: counts.lambda.warmStarts,
    peakConcurrency: counts.lambda.peakConcurrency,
    workerErrors: counts.lambda.workerErrors,
    wrongResults: c.bad,
    clientCounters: c.counters,
    /** The machine's 1-minute load average before and after (2 cores, shared): time figures stretch with it. */
    loadAverage: load.map((l) => Number(l.toFixed(1))),
    platformCpuS: Number(platformCpuS.toFixed(2)),
  };
}

type Row = ReturnType<typeof summarize>;

function table(rows: Row[]): string {
  const head =
    '| scenario | invoked (s) | all running (s) | wall (s) | client CPU (s) | peak RSS (MB) | requests/call (PUT/GET/LIST/HEAD/DEL) | result lag p50 (s) | polls | LIST pages/poll | LIST/s (peak) | peak W/R per prefix /s | SlowDown | 429 | load |';
  const lines = rows.map((r) => {
    const k = r.requestsPerCallByKind;
    return `| ${r.scenario} | ${r.invokedS.toFixed(2)} | ${r.allRunningS.toFixed(2)} | ${r.wallS.toFixed(2)} | ${r.clientCpuS.toFixed(2)} | ${r.clientPeakRssMB} | ${r.requestsPerCall} (${k.PUT}/${k.GET}/${k.LIST}/${k.HEAD}/${k.DELETE}) | ${(r.collectLagMs.p50 / 1000).toFixed(2)} | ${r.polls} | ${r.listPagesPerPoll} | ${r.pollListPerSecond} (${r.pollListPeakPerSecond}) | ${r.peakWritesPerPrefixPerS}/${r.peakReadsPerPrefixPerS} | ${r.slowDowns} | ${r.throttled429} | ${r.loadAverage.join('→')} |`;
  });
  return [head, `|${'---|'.repeat(15)}`, ...lines].join('\n');
}

/**
 * The Monte Carlo run's wall time on an unloaded platform: the modelled latencies along the critical
 * path plus the client's own CPU as measured in the run (on this shared 2-core machine the measured
 * wall time also holds the time the model's processes waited for a core). Median latencies, the
 * 99th percentile for the slowest of 1,000 cold starts.
 */
function criticalPath(r: Row) {
  const l = PARAMS.lambda;
  const s3 = PARAMS.s3;
  const lanes = 64; // aws_lambda.invokeConcurrency's default, the remote invoker's lanes too
  const viaInvoker = r.clientCounters['backend.invokes'] === 1;
  const invokes = viaInvoker ? r.calls - 1 : r.calls;
  const parts = {
    clientMapS: r.clientMapCpuS,
    invokerColdStartS: viaInvoker ? l.coldStart.medianMs / 1000 : 0,
    invokeRampS: (Math.ceil(invokes / lanes) * (l.invokeApi.medianMs + (viaInvoker ? l.invokerCpuMs : 0))) / 1000,
    lastColdStartS: l.coldStart.p99Ms / 1000,
    workerReadsS: (3 * s3.get.medianMs + s3.put.medianMs) / 1000,
    workS: r.workMs / 1000,
    statusWriteS: s3.put.medianMs / 1000,
    pollWaitS: 1, // half the 2 s poll interval the monitor has backed off to after 10 s without news
    collectS: Math.max(
      (Math.ceil(r.calls / 64) * s3.get.medianMs) / 1000,
      r.clientCpuS - r.clientMapCpuS, // the client's CPU to fetch and decode every status
    ),
  };
  const totalS = Object.values(parts).reduce((a, b) => a + b, 0);
  return {
    ...Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Number(v.toFixed(2))])),
    totalS: Number(totalS.toFixed(1)),
  };
}

async function main(): Promise<void> {
  const only = arg('only')?.split(',');
  const scenarios = SCENARIOS.filter((_s, i) => !only || only.includes(String(i)));
  const platform = fork(join(here, 'platform.ts'), [], {
    execArgv: [
      '--import',
      'tsx',
      ...(arg('prof-platform') ? ['--cpu-prof', '--cpu-prof-dir', arg('prof-platform') as string] : []),
    ],
    stdio: 'inherit',
  });
  const ready = await new Promise<PlatformReady>((resolve) =>
    platform.once('message', (m) => resolve(m as PlatformReady)),
  );
  const rows: Row[] = [];
  try {
    for (const s of scenarios) {
      await ask(platform, 'reset');
      const before = await ask<Counts>(platform, 'counts');
      const load0 = loadavg()[0] ?? 0;
      const c = await runClient({
        s3: ready.s3,
        lambda: ready.lambda,
        bucket: `fanout-${randomUUID().slice(0, 8)}`,
        ...s,
      });
      const counts = await ask<Counts>(platform, 'counts');
      const cpuS = (counts.cpu.user + counts.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
      const row = summarize(s, c, counts, [load0, loadavg()[0] ?? 0], cpuS);
      rows.push(row);
      console.log(table([row]).split('\n').pop());
    }
  } finally {
    platform.send({ t: 'stop' });
  }
  const mcRow = rows.find((r) => r.scenario.startsWith('Monte Carlo'));
  const predicted = mcRow ? criticalPath(mcRow) : undefined;
  if (predicted) console.log(`Monte Carlo at PyWren-IBM's size, critical path: ${JSON.stringify(predicted)}`);
  const result = {
    label,
    date: new Date().toISOString(),
    params: PARAMS,
    rows,
    ...(mcRow
      ? {
          montecarlo: {
            modelRunWallS: mcRow.wallS,
            criticalPath: predicted,
            publishedWallS: PARAMS.montecarlo.publishedWallS,
          },
        }
      : {}),
  };
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', `${label}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const readme = join(here, 'README.md');
  const start = `<!-- fanout:${label}:start -->`;
  const end = `<!-- fanout:${label}:end -->`;
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  const mcLine = predicted
    ? `\n\nMonte Carlo at PyWren-IBM's size: **${predicted.totalS} s** on the critical path (modelled latencies + this run's client CPU), ${mcRow?.wallS.toFixed(1)} s as run here (load ${mcRow?.loadAverage.join('→')}); PyWren-IBM: ~${PARAMS.montecarlo.publishedWallS} s.`
    : '';
  const block = `${start}\n${table(rows)}${mcLine}\n${end}`;
  writeFileSync(
    readme,
    a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + end.length) : `${text}\n${block}\n`,
  );
  console.log(
    `\n${table(rows)}\nwrote bench/fanout/results/${label}.json and the "${label}" table of bench/fanout/README.md`,
  );
}

await main();
