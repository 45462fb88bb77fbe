/** Renders the core benchmark's JSON (bench/results/core.json) as the Markdown tables of README.md. */

/** One command's timings from hyperfine, in seconds. */
export interface Measure {
  command: string;
  median: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  runs: number;
  /** Peak RSS of the (single) client process, from its check run. */
  maxRssMB?: number;
}

/** One workload: its size and a Measure per contender. */
export type Row = Record<string, Measure | number | string>;

/** The Markdown tables of one run (also used by run.ts for results/latest.md). */
export function renderCore(r: Record<string, unknown>): string {
  const s = (m: unknown, digits = 2): string =>
    m && typeof m === 'object' && 'median' in m ? (m as Measure).median.toFixed(digits) : '–';
  const ratio = (a: unknown, b: unknown): string =>
    a && b && typeof a === 'object' && typeof b === 'object'
      ? ((a as Measure).median / (b as Measure).median).toFixed(2)
      : '–';
  const machine = r.machine as Record<string, unknown>;
  const load = r.loadAverage as { start: number; end: number } | undefined;
  const out: string[] = [
    `Whole processes (\`node script.mjs\` to exit), median of ${String(r.runs)} runs by hyperfine, every contender running the same kernel file; ${String(machine.cpus)} × ${String(machine.model)}, Node ${String(machine.node)}, ${String(r.date).slice(0, 10)}${load ? `, load average ${load.start.toFixed(1)} → ${load.end.toFixed(1)}` : ''}.`,
    '',
    '| workload | Burst (s) | piscina, 2 threads (s) | 2 bare processes, half each (s) | plain loop (s) | faast.js local (s) | Burst ÷ piscina | Burst ÷ 2 bare |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const runsOf = (x: Row): string => {
    const k = (x.burst as Measure | undefined)?.runs;
    return k !== undefined && k !== r.runs ? ` (${k} run${k === 1 ? '' : 's'})` : '';
  };
  const row = (label: string, x: Row): string =>
    `| ${label}${runsOf(x)} | ${s(x.burst)} | ${s(x.piscina)} | ${s(x.bare)} | ${s(x.loop)} | ${s(x.faast)} | ${ratio(x.burst, x.piscina)} | ${ratio(x.burst, x.bare)} |`;
  const t = r.trivial as Row;
  out.push(row(`${Number(t.n).toLocaleString('en')} trivial calls \`x + 7\``, t));
  const g = r.gbm as Row;
  out.push(row(`GBM ${Number(g.n).toLocaleString('en')} tasks × 100 paths × 1,080 steps`, g));
  for (const x of (r.gbmSizes ?? []) as Row[]) out.push(row(`GBM ${Number(x.n).toLocaleString('en')} tasks`, x));
  out.push(
    '',
    '| trivial calls | Burst (s) | Burst calls/s | Burst client peak RSS (MB) | piscina (s) | piscina calls/s |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const x of (r.throughput ?? []) as Row[]) {
    const b = x.burst as Measure;
    const p = x.piscina as Measure | undefined;
    const rate = (m: Measure | undefined): string =>
      m ? Math.round(Number(x.n) / m.median).toLocaleString('en') : '–';
    out.push(
      `| ${Number(x.n).toLocaleString('en')} | ${s(b)} | ${rate(b)} | ${b.maxRssMB ?? '–'} | ${s(p)} | ${rate(p)} |`,
    );
  }
  const faastRuns = ((r.trivial as Row).faast as Measure | undefined)?.runs;
  if (faastRuns !== undefined && faastRuns !== r.runs)
    out.push('', `faast.js: median of ${faastRuns} runs (it is the slowest by far).`);
  const imp = r.import as { bare: Measure; package: Measure };
  out.push(
    '',
    `\`import 'burst-compute'\` alone: ${(1000 * (imp.package.median - imp.bare.median)).toFixed(0)} ms over \`node -e 0\` (${(1000 * imp.package.median).toFixed(0)} ms vs ${(1000 * imp.bare.median).toFixed(0)} ms).`,
  );
  return out.join('\n');
}
