/** Helpers of the fault tests: execution markers and the worker processes of this test process. */
import { readFileSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';

/** One execution as a marked task wrote it. */
export interface Execution {
  callId: number;
  attempt: number;
  pid: number;
  what: string;
  /** The worker that ran it: its pid and thread id (threads of one process share the pid). */
  worker: string;
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
      const [callId, attempt, pid, what, thread] = line.split(' ');
      return {
        callId: Number(callId),
        attempt: Number(attempt),
        pid: Number(pid),
        what: what ?? '',
        worker: `${pid}/${thread ?? 0}`,
      };
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

/** The two kinds of localhost workers: every fault test that looks at workers runs with both. */
export const ISOLATIONS = ['thread', 'process'] as const;

// libuv starts its thread pool at the first asynchronous fs call: start it now, so that the thread
// count below moves only with worker threads.
await stat('/');

/** Live OS threads of this process: worker threads add one each and give it back when they end. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/**
 * A count that is 0 exactly when no worker of `isolation` started by this process is alive: worker
 * processes from /proc, or OS threads above `baseThreads` (the count with no worker thread running; a
 * worker thread can bring more than one OS thread, e.g. tsx's loader-hooks thread under the tests).
 */
export function liveWorkers(isolation: (typeof ISOLATIONS)[number], baseThreads: number): number {
  return isolation === 'process' ? workerPids().length : Math.max(0, threadCount() - baseThreads);
}

/** CPU milliseconds this process uses over `ms`: a worker thread stuck in a loop shows as ~`ms`. */
export async function cpuOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await pause(ms);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}
