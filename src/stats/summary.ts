/**
 * Per-job aggregates of call stats: how many calls are in each state, and the distribution of each
 * stage (queue, run, result) with cold starts, attempts, bytes, hosts and an estimate of cost.
 */
import { estimateCost, type PriceTable } from './cost.js';
import type { CallLike, CallState, Distribution, JobSummary } from './types.js';

/** Options of {@link summarize}. */
export interface SummaryOptions {
  /** The backend the calls ran on, for the cost estimate. @default no estimate */
  backend?: string;
  /** Memory per worker in MB (the executor's `runtimeMemory`), for the cost estimate. */
  memoryMB?: number | undefined;
  /** A price table to use instead of the backend's registered one. */
  prices?: PriceTable;
}

/** Groups calls by job (in order of first appearance) and aggregates each group. */
export function summarize(calls: readonly CallLike[], options: SummaryOptions = {}): JobSummary[] {
  const jobs = new Map<string, CallLike[]>();
  for (const c of calls) {
    const key = `${c.executorId}/${c.jobId}`;
    let list = jobs.get(key);
    if (!list) jobs.set(key, (list = []));
    list.push(c);
  }
  return [...jobs.values()].map((list) => summarizeJob(list, options));
}

/** Aggregates the calls of one job. */
export function summarizeJob(calls: readonly CallLike[], options: SummaryOptions = {}): JobSummary {
  const first = calls[0];
  const states: Record<CallState, number> = { new: 0, invoked: 0, running: 0, success: 0, error: 0 };
  const queue: number[] = [];
  const run: number[] = [];
  const result: number[] = [];
  const total: number[] = [];
  const hosts = new Set<string>();
  const processes = new Set<string>();
  let coldStarts = 0;
  let attempts = 0;
  let retriedCalls = 0;
  let cachedCalls = 0;
  let backups = 0;
  let backupsWon = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let start = Infinity;
  let end = -Infinity;
  for (const c of calls) {
    const s = c.stats;
    states[c.status]++;
    push(queue, s.invoked ?? s.submitted, s.fnStart);
    push(run, s.fnStart, s.fnEnd);
    // The record's own write time, when known, so a Future and its record read back agree.
    const landed = s.stored ?? s.resultReceived;
    push(result, s.fnEnd, landed);
    push(total, s.submitted, landed);
    if (s.cold) coldStarts++;
    const ran = s.fnStart !== undefined || c.status === 'success' || c.status === 'error';
    if (ran) attempts += s.attempt ?? 1;
    if ((s.attempt ?? 1) > 1) retriedCalls++;
    if (s.cached) cachedCalls++;
    if (s.backup) backups++;
    if (s.backup === 'won') backupsWon++;
    bytesIn += s.bytesIn ?? 0;
    bytesOut += s.bytesOut ?? 0;
    if (s.hostname) hosts.add(s.hostname);
    if (s.pid !== undefined) processes.add(`${s.hostname ?? ''}:${s.pid}:${s.threadId ?? 0}`);
    if (s.submitted !== undefined) start = Math.min(start, s.submitted);
    const last = landed ?? s.fnEnd;
    if (last !== undefined) end = Math.max(end, last);
  }
  const summary: JobSummary = {
    executorId: first?.executorId ?? '',
    jobId: first?.jobId ?? '',
    calls: calls.length,
    states,
    coldStarts,
    attempts,
    retriedCalls,
    cachedCalls,
    backups,
    backupsWon,
    bytesIn,
    bytesOut,
    hosts: [...hosts].sort(),
    workerProcesses: processes.size,
  };
  if (Number.isFinite(start) && Number.isFinite(end) && end >= start) summary.wallTime = end - start;
  for (const [name, values] of [
    ['queue', queue],
    ['run', run],
    ['result', result],
    ['total', total],
  ] as const) {
    const d = distribution(values);
    if (d) summary[name] = d;
  }
  if (options.backend !== undefined) {
    const cost = estimateCost(calls, {
      backend: options.backend,
      memoryMB: options.memoryMB,
      ...(options.prices ? { prices: options.prices } : {}),
    });
    if (cost) summary.cost = cost;
  }
  return summary;
}

function push(into: number[], from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined) into.push(Math.max(0, to - from));
}

/** Min, median, p95, max and mean of `values` (linear interpolation between ranks); undefined when empty. */
export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    min: sorted[0] as number,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max: sorted[sorted.length - 1] as number,
    mean: sum / sorted.length,
  };
}

/** The q-quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}
