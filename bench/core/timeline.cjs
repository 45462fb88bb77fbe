/**
 * Preloaded (`node --require ./timeline.cjs <contender>.mjs …`) by bench/overhead.ts, which names the
 * file to append to in BENCH_TIMELINE_FILE. CommonJS so that it costs every contender's worker
 * threads the same: they inherit the preload, a require each, and append when they finished booting
 * (Node's own bootstrap, before the pool's code loads). The main thread records when each Worker was
 * constructed, when the results were reported (the contender's stdout line) and when the process
 * exited, plus the CPU time and context switches of each of its threads (sampled from /proc, since
 * threads end before the process), and appends them at exit. All times are wall-clock ms (Date.now),
 * from each thread's own clock, not from events a busy main thread may handle late.
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
  // Contenders import Worker after this preload: they get this subclass (ESM through the synced facade).
  const Worker = threads.Worker;
  threads.Worker = class extends Worker {
    constructor(...args) {
      marks.spawn.push(Date.now());
      super(...args);
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
