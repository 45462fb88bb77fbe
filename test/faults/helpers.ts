/** Helpers of the fault tests: execution markers and the worker processes of this test process. */
import { readFileSync, readdirSync } from 'node:fs';

/** One execution as a marked task wrote it. */
export interface Execution {
  callId: number;
  attempt: number;
  pid: number;
  what: string;
}

export function executions(marker: string): Execution[] {
  let text = '';
  try {
    text = readFileSync(marker, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [callId, attempt, pid, what] = line.split(' ');
      return { callId: Number(callId), attempt: Number(attempt), pid: Number(pid), what: what ?? '' };
    });
}

/** Pids of the live worker processes (src/worker/child) started by this process, from /proc. */
export function workerPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || Number(fields[1]) !== process.pid) continue;
      if (/worker\/child\.(ts|js)/.test(readFileSync(`/proc/${name}/cmdline`, 'utf8'))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
