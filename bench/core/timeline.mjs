/**
 * Preloaded (`node --import ./timeline.mjs <contender>.mjs …`) by bench/overhead.ts: records, from the
 * process's own start, when its first worker thread was created and came online, when the results
 * were reported (the contender's stdout line) and when the process exited, plus the CPU time and
 * context switches of each of its threads (sampled from /proc, since threads end before the process).
 * Prints one `timeline {json}` line on stderr at exit. Works the same for every contender.
 */
import { readdirSync, readFileSync } from 'node:fs';

const origin = performance.timeOrigin;
const now = () => Date.now() - origin;
const marks = { spawn: [], online: [], results: undefined, exit: undefined };
process.on('worker', (w) => {
  marks.spawn.push(now());
  w.once('online', () => marks.online.push(now()));
});
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  marks.results ??= now();
  return write(chunk, ...rest);
};

/** Per thread id: CPU ms (user + system), voluntary and involuntary context switches, as last seen. */
const threads = new Map();
function sample() {
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      threads.set(Number(tid), {
        cpuMs: (Number(f[11]) + Number(f[12])) * 10,
        voluntary: Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0),
        involuntary: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0),
      });
    } catch {
      // the thread ended between the listing and the read: its last sample stands
    }
  }
}
setInterval(sample, 10).unref();

process.on('exit', () => {
  sample();
  marks.exit = now();
  const main = threads.get(process.pid);
  // The busiest other threads are the pool's workers (the contenders start one per core); the rest
  // are V8's platform threads (GC and compiler helpers) and libuv's.
  const others = [...threads]
    .filter(([tid]) => tid !== process.pid)
    .map(([, t]) => t)
    .sort((a, b) => b.cpuMs - a.cpuMs);
  const workerCount = marks.spawn.length;
  const sum = (list, key) => list.reduce((s, t) => s + t[key], 0);
  const workers = others.slice(0, workerCount);
  const rest = others.slice(workerCount);
  process.stderr.write(
    `timeline ${JSON.stringify({
      ...marks,
      cpuMs: { main: main?.cpuMs ?? 0, workers: sum(workers, 'cpuMs'), helpers: sum(rest, 'cpuMs') },
      switches: {
        mainVoluntary: main?.voluntary ?? 0,
        workersInvoluntary: sum(workers, 'involuntary'),
        helpersVoluntary: sum(rest, 'voluntary'),
      },
    })}\n`,
  );
});
