/**
 * Loaded by the contender scripts (their first import, ./timeline-hook.mjs) when bench/overhead.ts
 * names the file to append to in BENCH_TIMELINE_FILE. Not a `--require` preload of the main process:
 * with a loader flag on its command line Burst cannot trust a CommonJS file on disk to be what V8
 * ran, and finds a function's source through the inspector's slower path, which would have charged
 * Burst ~50–80 ms of client CPU that users without the flag never pay. CommonJS so that it costs
 * every contender's worker threads the same: each Worker is constructed with it as a `--require` of
 * its own, and the thread appends when it finished booting (Node's own bootstrap, before the pool's
 * code loads). The main thread records when each Worker was constructed, when the results were
 * reported (the contender's stdout line) and when the process exited, plus the CPU time and context
 * switches of each of its threads (sampled from /proc, since threads end before the process), and
 * appends them at exit. All times are wall-clock ms (Date.now), from each thread's own clock, not
 * from events a busy main thread may handle late.
 */
'use strict';
const { appendFileSync, readdirSync, readFileSync } = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');
const threads = require('node:worker_threads');

const file = process.env.BENCH_TIMELINE_FILE;
const append = (record) => file && appendFileSync(file, `${JSON.stringify(record)}\n`);

if (!threads.isMainThread) append({ booted: Date.now() });
else {
  const marks = { origin: performance.timeOrigin, spawn: [], results: undefined, exit: undefined };
  // Contenders construct their Workers after this runs: they get this subclass (ESM through the synced
  // facade). Neither contender passes execArgv (a thread would inherit the process's); V8 flags such
  // as --parallel-scavenge are process-wide and not allowed in a Worker's own execArgv.
  const Worker = threads.Worker;
  threads.Worker = class extends Worker {
    constructor(filename, options = {}) {
      marks.spawn.push(Date.now());
      super(filename, { ...options, execArgv: [...(options.execArgv ?? []), '--require', __filename] });
    }
  };
  syncBuiltinESMExports();
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    marks.results ??= Date.now();
    return write(chunk, ...rest);
  };

  /** Per thread id: CPU ms (user + system), voluntary and involuntary context switches, as last seen. */
  const seen = new Map();
  const sample = () => {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
        seen.set(Number(tid), {
          cpuMs: (Number(f[11]) + Number(f[12])) * 10,
          voluntary: Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0),
          involuntary: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0),
        });
      } catch {
        // the thread ended between the listing and the read: its last sample stands
      }
    }
  };
  setInterval(sample, 10).unref();

  process.on('exit', () => {
    sample();
    marks.exit = Date.now();
    const main = seen.get(process.pid);
    // The busiest other threads are the pool's workers (one per constructed Worker); the rest are
    // V8's platform threads (GC and compiler helpers) and libuv's.
    const others = [...seen]
      .filter(([tid]) => tid !== process.pid)
      .map(([, t]) => t)
      .sort((a, b) => b.cpuMs - a.cpuMs);
    const workers = others.slice(0, marks.spawn.length);
    const rest = others.slice(marks.spawn.length);
    const sum = (list, key) => list.reduce((s, t) => s + t[key], 0);
    append({
      ...marks,
      cpuMs: { main: main?.cpuMs ?? 0, workers: sum(workers, 'cpuMs'), helpers: sum(rest, 'cpuMs') },
      switches: {
        mainVoluntary: main?.voluntary ?? 0,
        workersInvoluntary: sum(workers, 'involuntary'),
        helpersVoluntary: sum(rest, 'voluntary'),
      },
    });
  });
}
