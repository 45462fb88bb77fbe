/**
 * Summaries of a sample of simulated prices: percentiles, a fixed-bin histogram and its ASCII
 * rendering. Pure functions of the sample, so the same numbers always print the same way.
 */

/** Percentiles reported for each horizon. */
export const PERCENTILES = [1, 5, 25, 50, 75, 95, 99] as const;

/** Summary of one sample. */
export interface Summary {
  count: number;
  mean: number;
  min: number;
  max: number;
  /** Percentile → value, for each of {@link PERCENTILES}. */
  percentiles: Map<number, number>;
}

/** One histogram: `counts[i]` values fell in `[lo + i·width, lo + (i+1)·width)`. */
export interface Histogram {
  lo: number;
  width: number;
  counts: number[];
  /** Values below `lo` and at or above the last edge (the tails left out of the plot). */
  below: number;
  above: number;
}

/** Sorts a copy of the sample and summarises it. */
export function summarize(sample: Float64Array): { summary: Summary; sorted: Float64Array } {
  const sorted = Float64Array.from(sample).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const percentiles = new Map(PERCENTILES.map((p) => [p, quantile(sorted, p / 100)]));
  const summary = {
    count: sorted.length,
    mean: sum / sorted.length,
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    percentiles,
  };
  return { summary, sorted };
}

/** The q-quantile of a sorted sample, interpolated linearly between ranks (R's type 7). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const a = sorted[i] as number;
  const b = sorted[Math.min(i + 1, sorted.length - 1)] as number;
  return a + (b - a) * (pos - i);
}

/**
 * Bins a sorted sample into `bins` equal bins over `range`, by default between its 0.5th and 99.5th
 * percentiles: the far tails of a lognormal would otherwise squash the plot into a few bins.
 */
export function histogram(sorted: Float64Array, bins: number, range?: readonly [number, number]): Histogram {
  const [lo, hi] = range ?? [quantile(sorted, 0.005), quantile(sorted, 0.995)];
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  let below = 0;
  let above = 0;
  for (const v of sorted) {
    const i = Math.floor((v - lo) / width);
    if (i < 0) below++;
    else if (i >= bins) above++;
    else counts[i] = (counts[i] ?? 0) + 1;
  }
  return { lo, width, counts, below, above };
}

/** Renders a histogram as lines of `lo–hi │████ count`, the longest bar `barWidth` characters. */
export function asciiHistogram(h: Histogram, barWidth = 50): string {
  const max = Math.max(1, ...h.counts);
  const label = (v: number): string => v.toFixed(1).padStart(7);
  const lines = h.counts.map((c, i) => {
    const from = h.lo + i * h.width;
    const bar = '█'.repeat(Math.round((c / max) * barWidth));
    return `${label(from)} – ${label(from + h.width)} │${bar} ${c}`;
  });
  lines.push(`(${h.below} below, ${h.above} above the plotted range)`);
  return lines.join('\n');
}

/** A table of the percentiles of several horizons, one column each. */
export function percentileTable(columns: ReadonlyArray<{ name: string; summary: Summary }>): string {
  const head = ['percentile'.padEnd(10), ...columns.map((c) => c.name.padStart(12))].join(' ');
  const rows = PERCENTILES.map((p) =>
    [`p${p}`.padEnd(10), ...columns.map((c) => (c.summary.percentiles.get(p) ?? NaN).toFixed(4).padStart(12))].join(
      ' ',
    ),
  );
  const mean = ['mean'.padEnd(10), ...columns.map((c) => c.summary.mean.toFixed(4).padStart(12))].join(' ');
  return [head, ...rows, mean].join('\n');
}
