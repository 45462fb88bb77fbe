/**
 * Call lists on a command line: `0-99,105,200-201`. Compact for the contiguous ranges that jobs produce.
 */
import { ConfigError } from '../errors.js';

/** Formats call ids as ranges. */
export function formatCallSpec(ids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    const start = ids[i] as number;
    let end = start;
    while (i + 1 < ids.length && ids[i + 1] === end + 1) end = ids[++i] as number;
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}

/** Parses a call spec; throws a ConfigError (`keyPath` `calls`) naming the bad part. */
export function parseCallSpec(spec: string): number[] {
  const ids: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m)
      throw new ConfigError(`invalid call list "${spec}": "${part}" is not a number or a range like 3-7`, {
        keyPath: 'calls',
      });
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (end < start)
      throw new ConfigError(`invalid call list "${spec}": range "${part}" goes backwards`, { keyPath: 'calls' });
    for (let id = start; id <= end; id++) ids.push(id);
  }
  return ids;
}

/** Splits call ids into consecutive chunks of `size` (at least 1): one worker invocation each. */
export function chunkCalls(ids: readonly number[], size: number): number[][] {
  const step = Math.max(1, size);
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += step) out.push(ids.slice(i, i + step));
  return out;
}
