/**
 * The public `plotTimeline`: imports the plotting module (Vega-Lite specs and the SVG writer) on the
 * first call, so `import 'burst-compute'` does not parse it (issue 16).
 */
import type { PlotOptions } from './plot.js';
import type { CallLike } from './types.js';

/**
 * Writes `<executor>-<job>-timeline.svg`, `-concurrency.svg` and `-histogram.svg` into `dir` for each
 * job among `calls` (futures, or calls read back from storage); resolves with the paths written.
 */
export async function plotTimeline(
  calls: readonly CallLike[],
  dir: string,
  options: PlotOptions = {},
): Promise<string[]> {
  return (await import('./plot.js')).plotTimeline(calls, dir, options);
}
