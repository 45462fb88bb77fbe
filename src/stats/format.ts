/**
 * Text forms of stats: one block per job with a table of stage timings (min, median, p95, max), then
 * the counts, bytes, hosts and cost. Used by `fexec.summary()`, `burst hello` and `burst plot`.
 */
import type { CostEstimate, Distribution, JobSummary } from './types.js';

/** Formats summaries as text, one block per job, blocks separated by a blank line. */
export function formatSummary(summaries: readonly JobSummary[]): string {
  if (summaries.length === 0) return 'no calls yet\n';
  return summaries.map(formatJob).join('\n');
}

function formatJob(s: JobSummary): string {
  const states = (['success', 'error', 'running', 'invoked', 'new'] as const)
    .filter((k) => s.states[k] > 0)
    .map((k) => `${s.states[k]} ${k === 'invoked' ? 'waiting' : k}`)
    .join(', ');
  const wall = s.wallTime === undefined ? '' : ` in ${formatDuration(s.wallTime)}`;
  const on = s.cost ? ` on ${s.cost.backend}` : '';
  const lines = [`Job ${s.executorId}/${s.jobId}: ${plural(s.calls, 'call')} (${states || 'none'})${wall}${on}`];
  const rows: Array<[string, Distribution | undefined]> = [
    ['queue', s.queue],
    ['run', s.run],
    ['result', s.result],
    ['total', s.total],
  ];
  const table = [['', 'min', 'median', 'p95', 'max']];
  for (const [name, d] of rows) {
    if (d) table.push([name, ...[d.min, d.median, d.p95, d.max].map(formatDuration)]);
  }
  if (table.length > 1) lines.push(...alignTable(table).map((l) => `  ${l}`));
  const retried = s.retriedCalls > 0 ? ` (${plural(s.retriedCalls, 'call')} retried)` : '';
  lines.push(
    `  cold starts ${s.coldStarts} of ${s.calls} · ${plural(s.attempts, 'attempt')}${retried} · in ${formatBytes(s.bytesIn)} · out ${formatBytes(s.bytesOut)}`,
  );
  if (s.cachedCalls > 0 || s.backups > 0)
    lines.push(
      `  ${s.cachedCalls} of ${s.calls} from the result cache · ${plural(s.backups, 'speculative backup')} (${s.backupsWon} won)`,
    );
  if (s.hosts.length > 0 || s.workerProcesses > 0) {
    const hosts = s.hosts.length <= 3 ? ` (${s.hosts.join(', ')})` : '';
    lines.push(`  ran on ${plural(s.hosts.length, 'host')}${hosts}, ${plural(s.workerProcesses, 'worker')}`);
  }
  if (s.cost) lines.push(`  estimated cost ${formatCost(s.cost)} (${s.cost.note})`);
  return `${lines.join('\n')}\n`;
}

/** Right-aligns every column but the first. */
export function alignTable(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `950 ms`, `1.52 s`, `2 min 3 s`. */
export function formatDuration(ms: number): string {
  if (ms < 10) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${Math.round((ms - min * 60_000) / 1000)} s`;
}

/** `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** `$0`, `$0.00042`, `$1.23`. */
export function formatCost(c: CostEstimate): string {
  const symbol = c.currency === 'USD' ? '$' : '';
  const suffix = symbol ? '' : ` ${c.currency}`;
  if (c.total === 0) return `${symbol}0${suffix}`;
  const text = c.total >= 0.01 ? c.total.toFixed(2) : c.total.toPrecision(2);
  return `${symbol}${text}${suffix}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
