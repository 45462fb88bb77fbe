/**
 * Plots of calls as SVG, made with Vega-Lite and rendered by Vega headless in Node (its SVG renderer
 * needs no canvas). Both load on first use only: `import 'burst-compute'` never pays for them.
 *
 * Per job: a timeline of every call (waiting from submit to start, running from start to end,
 * returning from end to result received), the number of calls in flight and running over time, and a
 * histogram of run times.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { CallLike } from './types.js';

/** Options of {@link plotTimeline}. */
export interface PlotOptions {
  /** Chart width in pixels. @default 760 */
  width?: number;
  /**
   * Where bars of unfinished calls end (epoch ms): `Date.now()` for a live view.
   * @default the latest time known among the calls
   */
  now?: number;
}

const PHASES = ['waiting', 'running', 'failed', 'returning'] as const;
const PHASE_COLORS = ['#b8c2cf', '#3a78d4', '#d6453d', '#f0a030'];
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/**
 * Writes `<executor>-<job>-timeline.svg`, `-concurrency.svg` and `-histogram.svg` into `dir` for each
 * job among `calls` (futures, or calls read back from storage); resolves with the paths written.
 */
export async function plotTimeline(
  calls: readonly CallLike[],
  dir: string,
  options: PlotOptions = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const job of groupByJob(calls)) {
    const first = job[0] as CallLike;
    const base = join(dir, `${first.executorId}-${first.jobId}`.replace(/[^\w.-]/g, '_'));
    const charts: Array<[string, Promise<string>]> = [
      [`${base}-timeline.svg`, timelineSvg(job, options)],
      [`${base}-concurrency.svg`, concurrencySvg(job, options)],
      [`${base}-histogram.svg`, histogramSvg(job, options)],
    ];
    for (const [path, svg] of charts) {
      await writeFile(path, await svg);
      written.push(path);
    }
  }
  return written;
}

/** The timeline chart of one job's calls as an SVG document. */
export async function timelineSvg(calls: readonly CallLike[], options: PlotOptions = {}): Promise<string> {
  return render(timelineSpec(calls, options));
}

/** The concurrency-over-time chart of one job's calls as an SVG document. */
export async function concurrencySvg(calls: readonly CallLike[], options: PlotOptions = {}): Promise<string> {
  return render(concurrencySpec(calls, options));
}

/** The histogram of run times of one job's calls as an SVG document. */
export async function histogramSvg(calls: readonly CallLike[], options: PlotOptions = {}): Promise<string> {
  return render(histogramSpec(calls, options));
}

/** The earliest time known of the calls: the origin of the time axes. */
function origin(calls: readonly CallLike[]): number {
  let t0 = Infinity;
  for (const { stats: s } of calls)
    t0 = Math.min(t0, s.submitted ?? s.invoked ?? s.workerStart ?? s.fnStart ?? Infinity);
  return Number.isFinite(t0) ? t0 : 0;
}

/** The end of bars of unfinished calls: `options.now`, else the latest time known. */
function until(calls: readonly CallLike[], options: PlotOptions): number {
  if (options.now !== undefined) return options.now;
  let last = -Infinity;
  for (const { stats: s } of calls) {
    for (const t of [s.submitted, s.invoked, s.workerStart, s.fnStart, s.fnEnd, s.resultReceived])
      if (t !== undefined && t > last) last = t;
  }
  return Number.isFinite(last) ? last : 0;
}

function title(calls: readonly CallLike[], what: string): { text: string; subtitle: string } {
  const first = calls[0];
  const done = calls.filter((c) => c.status === 'success' || c.status === 'error').length;
  const failed = calls.filter((c) => c.status === 'error').length;
  return {
    text: `${what}: job ${first ? `${first.executorId}/${first.jobId}` : '(none)'}`,
    subtitle: `${calls.length} calls, ${done} finished${failed ? `, ${failed} failed` : ''}`,
  };
}

/** Vega-Lite spec of the timeline: one row per call, one bar per phase. */
export function timelineSpec(calls: readonly CallLike[], options: PlotOptions = {}): TopLevelSpec {
  const t0 = origin(calls);
  const now = until(calls, options);
  const rows: Array<Record<string, unknown>> = [];
  const sec = (t: number): number => (t - t0) / 1000;
  let maxCall = 0;
  for (const c of calls) {
    const s = c.stats;
    maxCall = Math.max(maxCall, c.callId);
    const base = {
      call: c.callId,
      bottom: c.callId - 0.42,
      top: c.callId + 0.42,
      host: s.hostname ? `${s.hostname}:${s.pid ?? ''}${s.threadId !== undefined ? `:${s.threadId}` : ''}` : '',
      state: c.status,
    };
    const from = s.submitted ?? s.invoked;
    if (from !== undefined)
      rows.push({
        ...base,
        phase: 'waiting',
        start: sec(from),
        end: sec(s.fnStart ?? (c.status === 'invoked' || c.status === 'new' ? now : from)),
      });
    if (s.fnStart !== undefined) {
      rows.push({
        ...base,
        phase: c.status === 'error' ? 'failed' : 'running',
        start: sec(s.fnStart),
        end: sec(s.fnEnd ?? now),
      });
    }
    if (s.fnEnd !== undefined && s.resultReceived !== undefined)
      rows.push({ ...base, phase: 'returning', start: sec(s.fnEnd), end: sec(s.resultReceived) });
  }
  const height = Math.min(900, Math.max(160, (maxCall + 1) * 14));
  return {
    $schema: SCHEMA,
    title: title(calls, 'Timeline of calls'),
    width: options.width ?? 760,
    height,
    config: config(),
    data: { values: rows },
    mark: { type: 'rect', tooltip: true },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: 'seconds since the first call was submitted' },
      x2: { field: 'end' },
      y: {
        field: 'bottom',
        type: 'quantitative',
        title: 'call',
        scale: { domain: [-0.5, maxCall + 0.5], nice: false, reverse: true, zero: false },
        axis: { tickMinStep: 1, grid: false },
      },
      y2: { field: 'top' },
      color: {
        field: 'phase',
        type: 'nominal',
        scale: { domain: [...PHASES], range: PHASE_COLORS },
        legend: {
          title: null,
          orient: 'bottom',
          direction: 'horizontal',
          labelExpr:
            "{waiting: 'waiting (submit → start)', running: 'running (start → end)', failed: 'failed', returning: 'returning (end → result)'}[datum.label]",
        },
      },
    },
  } as TopLevelSpec;
}

/** Vega-Lite spec of the number of calls in flight (submitted, no result yet) and running over time. */
export function concurrencySpec(calls: readonly CallLike[], options: PlotOptions = {}): TopLevelSpec {
  const t0 = origin(calls);
  const inFlight: Array<[number, number]> = [];
  const running: Array<[number, number]> = [];
  for (const { stats: s } of calls) {
    const from = s.submitted ?? s.invoked;
    if (from !== undefined) inFlight.push([from, 1], [s.resultReceived ?? s.fnEnd ?? Infinity, -1]);
    if (s.fnStart !== undefined) running.push([s.fnStart, 1], [s.fnEnd ?? Infinity, -1]);
  }
  const now = until(calls, options);
  const rows = [...steps(inFlight, t0, now, 'in flight (submitted, no result)'), ...steps(running, t0, now, 'running')];
  return {
    $schema: SCHEMA,
    title: title(calls, 'Concurrency'),
    width: options.width ?? 760,
    height: 260,
    config: config(),
    data: { values: rows },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds since the first call was submitted' },
      y: {
        field: 'calls',
        type: 'quantitative',
        title: 'calls',
        axis: { tickMinStep: 1 },
        scale: { domainMax: rows.reduce((m, r) => Math.max(m, r.calls), 1) + 1 },
      },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { range: ['#9aa5b4', '#3a78d4'] },
        legend: { title: null, orient: 'bottom', direction: 'horizontal' },
      },
    },
  } as TopLevelSpec;
}

/** The count after each change, as step points in seconds from `t0`. */
function steps(
  changes: Array<[number, number]>,
  t0: number,
  now: number,
  series: string,
): Array<{ t: number; calls: number; series: string }> {
  const sorted = changes.filter(([t]) => Number.isFinite(t)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const open = changes.filter(([t]) => !Number.isFinite(t)).length;
  const out = [{ t: 0, calls: 0, series }];
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    const [t, d] = sorted[i] as [number, number];
    n += d;
    if (i + 1 < sorted.length && (sorted[i + 1] as [number, number])[0] === t) continue;
    out.push({ t: (t - t0) / 1000, calls: n, series });
  }
  if (open > 0 && sorted.length > 0 && now > (sorted[sorted.length - 1] as [number, number])[0])
    out.push({ t: (now - t0) / 1000, calls: n, series });
  return out;
}

/** Vega-Lite spec of a histogram of run times (function start → end) in ms. */
export function histogramSpec(calls: readonly CallLike[], options: PlotOptions = {}): TopLevelSpec {
  const rows = calls
    .filter((c) => c.stats.fnStart !== undefined && c.stats.fnEnd !== undefined)
    .map((c) => ({
      ms: (c.stats.fnEnd as number) - (c.stats.fnStart as number),
      outcome: c.status === 'error' ? 'failed' : 'succeeded',
    }));
  return {
    $schema: SCHEMA,
    title: title(calls, 'Run time of calls'),
    width: options.width ?? 760,
    height: 220,
    config: config(),
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'ms', type: 'quantitative', bin: { maxbins: 30 }, title: 'run time (ms, function start → end)' },
      y: { aggregate: 'count', type: 'quantitative', title: 'calls', axis: { tickMinStep: 1 } },
      color: {
        field: 'outcome',
        type: 'nominal',
        scale: { domain: ['succeeded', 'failed'], range: ['#3a78d4', '#d6453d'] },
        legend: { title: null, orient: 'bottom', direction: 'horizontal' },
      },
    },
  } as TopLevelSpec;
}

function config(): Record<string, unknown> {
  return {
    font: FONT,
    title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555', anchor: 'start' },
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e9ee' },
    legend: { labelFontSize: 12, labelLimit: 320 },
    view: { stroke: '#d0d5dc' },
  };
}

/** Compiles a Vega-Lite spec and renders it to an SVG document, headless. */
export async function render(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function groupByJob(calls: readonly CallLike[]): CallLike[][] {
  const jobs = new Map<string, CallLike[]>();
  for (const c of calls) {
    const key = `${c.executorId}/${c.jobId}`;
    let list = jobs.get(key);
    if (!list) jobs.set(key, (list = []));
    list.push(c);
  }
  return [...jobs.values()];
}
