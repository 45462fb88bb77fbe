/** Renders the core benchmark's JSON (bench/results/core.json) as the Markdown tables of README.md. */

/** One contender's timings of one workload, in seconds (whole processes, spawn to exit). */
export interface Measure {
  command: string;
  median: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  runs: number;
  /** Each run's seconds, by round (the runs of one round were taken one after another). */
  samples?: number[];
  /** Peak RSS of the client process (the largest over the runs; piscina's includes its threads). */
  maxRssMB?: number;
}

/** One workload: its size and a Measure per contender. */
export type Row = Record<string, Measure | number | string>;

const isMeasure = (m: unknown): m is Measure => typeof m === 'object' && m !== null && 'median' in m;

/** The Markdown tables of one run (also used by run.ts for results/latest.md). */
export function renderCore(r: Record<string, unknown>): string {
  const s = (m: unknown, digits = 2): string => {
    if (!isMeasure(m)) return '–';
    return `${m.median.toFixed(digits)}${m.runs !== r.runs ? ` (${m.runs} run${m.runs === 1 ? '' : 's'})` : ''}`;
  };
  const ratio = (a: unknown, b: unknown): string =>
    isMeasure(a) && isMeasure(b) ? (a.median / b.median).toFixed(2) : '–';
  const machine = r.machine as Record<string, unknown>;
  const load = r.loadAverage as { start: number; end: number } | undefined;
  const out: string[] = [
    `Whole processes (\`node script.mjs\` to exit, spawn-and-wait), median of ${String(r.runs)} runs unless marked, contenders taking turns (the order turning each round), every one running the same kernel file; ${String(machine.cpus)} × ${String(machine.model)}, Node ${String(machine.node)}, ${String(r.date).slice(0, 10)}${load ? `, load average ${load.start.toFixed(1)} → ${load.end.toFixed(1)}` : ''}${r.seconds ? `; the whole benchmark took ${String(r.seconds)} s` : ''}.`,
    '',
    "| workload | Burst (s) | Burst, `isolation: 'process'` (s) | piscina, 2 threads (s) | 2 bare processes, half each (s) | sequential loop (s) | faast.js local (s) | Burst ÷ piscina | Burst ÷ 2 bare |",
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const row = (label: string, x: Row): string =>
    `| ${label} | ${s(x.burst)} | ${s(x.burstProcess)} | ${s(x.piscina)} | ${s(x.bare)} | ${s(x.loop)} | ${s(x.faast)} | ${ratio(x.burst, x.piscina)} | ${ratio(x.burst, x.bare)} |`;
  const t = r.trivial as Row;
  out.push(row(`${Number(t.n).toLocaleString('en')} trivial calls \`x + 7\``, t));
  const g = r.gbm as Row;
  out.push(row(`GBM ${Number(g.n).toLocaleString('en')} tasks × 100 paths × 1,080 steps`, g));
  out.push(
    '',
    '| GBM tasks (same kernel) | Burst (s) | Burst, processes (s) | piscina (s) | 2 bare processes (s) | sequential loop (s) | Burst ÷ piscina | Burst ÷ 2 bare |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const sizes = [...((r.gbmSizes ?? []) as Row[]), g].sort((a, b) => Number(a.n) - Number(b.n));
  for (const x of sizes)
    out.push(
      `| ${Number(x.n).toLocaleString('en')} | ${s(x.burst)} | ${s(x.burstProcess)} | ${s(x.piscina)} | ${s(x.bare)} | ${s(x.loop)} | ${ratio(x.burst, x.piscina)} | ${ratio(x.burst, x.bare)} |`,
    );
  out.push(
    '',
    '| trivial calls | Burst (s) | Burst calls/s | Burst client peak RSS (MB) | piscina (s) | piscina calls/s |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  const rate = (x: Row, m: unknown): string =>
    isMeasure(m) ? Math.round(Number(x.n) / m.median).toLocaleString('en') : '–';
  for (const x of (r.throughput ?? []) as Row[]) {
    const b = x.burst as Measure;
    out.push(
      `| ${Number(x.n).toLocaleString('en')} | ${s(b)} | ${rate(x, b)} | ${b.maxRssMB ?? '–'} | ${s(x.piscina)} | ${rate(x, x.piscina)} |`,
    );
  }
  const imp = r.import as { bare: Measure; package: Measure };
  const ofMedians = 1000 * (imp.package.median - imp.bare.median);
  const paired = pairedDifference(imp.package, imp.bare);
  const importMs = paired === undefined ? ofMedians : 1000 * paired;
  out.push(
    '',
    paired === undefined
      ? `\`import 'burst-compute'\` alone: ${importMs.toFixed(0)} ms over \`node -e 0\` (${(1000 * imp.package.median).toFixed(0)} ms vs ${(1000 * imp.bare.median).toFixed(0)} ms, medians of ${imp.bare.runs} runs each).`
      : `\`import 'burst-compute'\` alone: ${importMs.toFixed(0)} ms over \`node -e 0\`, the median of ${imp.bare.runs} differences between runs taken back to back (the medians: ${(1000 * imp.package.median).toFixed(0)} ms vs ${(1000 * imp.bare.median).toFixed(0)} ms, ${ofMedians.toFixed(0)} ms apart).`,
  );
  out.push('', ...targets(r, importMs));
  return out.join('\n');
}

/**
 * The median over rounds of `a`'s time divided by `b`'s in the same round: load that changes between
 * rounds (a VM's slower stretch) falls on both sides of each ratio. Undefined without paired samples.
 */
export function pairedRatio(a: unknown, b: unknown): number | undefined {
  return pairedMedian(a, b, (x, y) => x / y);
}

/** The median over rounds of `a`'s time minus `b`'s in the same round, in seconds. */
export function pairedDifference(a: unknown, b: unknown): number | undefined {
  return pairedMedian(a, b, (x, y) => x - y);
}

function pairedMedian(a: unknown, b: unknown, f: (x: number, y: number) => number): number | undefined {
  if (!isMeasure(a) || !isMeasure(b) || !a.samples || !b.samples) return undefined;
  const n = Math.min(a.samples.length, b.samples.length);
  if (n < 2) return undefined;
  const sorted = Array.from({ length: n }, (_, i) => f(a.samples?.[i] as number, b.samples?.[i] as number)).sort(
    (x, y) => x - y,
  );
  const m = n >> 1;
  return n % 2 ? (sorted[m] as number) : ((sorted[m - 1] as number) + (sorted[m] as number)) / 2;
}

/**
 * The issue-16 targets against this run's figures. A ratio target is judged on the paired ratio
 * when the run has one (the ratio of the medians is shown beside it), else on the medians.
 */
function targets(r: Record<string, unknown>, importMs: number): string[] {
  const lines = ['| target | this run | met |', '| --- | --- | --- |'];
  const add = (target: string, got: string, ok: boolean | undefined): void => {
    lines.push(`| ${target} | ${got} | ${ok === undefined ? '–' : ok ? 'yes' : 'no'} |`);
  };
  const ratioTarget = (target: string, a: unknown, b: unknown, limit: number): void => {
    const ma = isMeasure(a) ? a.median : undefined;
    const mb = isMeasure(b) ? b.median : undefined;
    if (!ma || !mb) return add(target, '–', undefined);
    const paired = pairedRatio(a, b);
    const got =
      paired === undefined
        ? `${(ma / mb).toFixed(2)}×`
        : `${paired.toFixed(2)}× paired (${(ma / mb).toFixed(2)}× of the medians)`;
    add(target, got, (paired ?? ma / mb) <= limit);
  };
  const med = (m: unknown): number | undefined => (isMeasure(m) ? m.median : undefined);
  const t = r.trivial as Row;
  ratioTarget('1,000 trivial calls ≤ 1.0× piscina', t.burst, t.piscina, 1);
  const g = r.gbm as Row;
  ratioTarget('GBM 1,000 ≤ 1.0× piscina', g.burst, g.piscina, 1);
  ratioTarget('GBM 1,000 ≤ 1.05× two bare processes', g.burst, g.bare, 1.05);
  add('`import` ≤ 60 ms over `node -e 0`', `${importMs.toFixed(0)} ms`, importMs <= 60);
  for (const x of (r.throughput ?? []) as Row[]) {
    const b = med(x.burst);
    if (b === undefined) continue;
    const n = Number(x.n);
    if (n === 100_000)
      add(
        '100,000 trivial calls ≥ 150,000 calls/s',
        `${Math.round(n / b).toLocaleString('en')} calls/s`,
        n / b >= 150_000,
      );
    if (n === 1_000_000) {
      const rss = (x.burst as Measure).maxRssMB ?? Infinity;
      add('10⁶ trivial inputs ≤ 8 s', `${b.toFixed(1)} s`, b <= 8);
      add('10⁶ trivial inputs: client peak RSS ≤ 500 MB', `${rss} MB`, rss <= 500);
    }
  }
  return lines;
}
