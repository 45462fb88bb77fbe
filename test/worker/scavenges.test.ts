/**
 * While a pool's workers fill every core, young-generation collections run on the collecting thread
 * alone (src/worker/scavenges.ts): V8's helper threads could only preempt the workers. Checked on V8's
 * own traces (--trace-parallel-scavenge prints one line per scavenger task). With threads, every
 * scavenge of a worker isolate used one task while the pool ran, and once it closed the client's
 * own scavenges were parallel again: the same work shows several tasks, which also proves the work
 * is parallel when V8 may. With processes, each worker is started with the flag. A process that
 * chose for itself keeps its choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { FunctionExecutor } from '../../src/index.ts';
import { scavengingChosen } from '../../src/worker/scavenges.ts';
import { tracedGcs } from '../v8-gc-trace.ts';

const fixture = new URL('./fixtures/scavenge-phases.ts', import.meta.url).pathname;

/**
 * Scavenger tasks of each scavenge, by phase: the fixture's full GCs (on the main isolate) split the
 * trace, which every isolate writes to the same stdout in the order it happened. Phase 0 is start-up.
 */
interface Phases {
  /** The main isolate's scavenges (the client). */
  main: number[][];
  /** The other isolates' (the pool's threads, and tsx's loader thread). */
  others: number[][];
  result: { workers: number; execArgv: string[] };
}

/** Runs the fixture under V8's GC traces and sorts its scavenges by isolate and phase. */
function runPhases(isolation: 'thread' | 'process', extra: string[] = []): Promise<Phases> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--trace-gc', '--trace-parallel-scavenge', '--expose-gc', ...extra, '--import', 'tsx', fixture, isolation],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`fixture exited ${code}: ${err.slice(-2000)}`));
      const main: number[][] = [[]];
      const others: number[][] = [[]];
      const gcs = tracedGcs(out);
      const mainIsolate = gcs[0]?.isolate; // the process boots (and collects) before any other thread exists
      for (const gc of gcs) {
        if (gc.kind === 'scavenge') (gc.isolate === mainIsolate ? main : others).at(-1)?.push(gc.tasks);
        else if (gc.isolate === mainIsolate && gc.line.includes('testing')) {
          main.push([]);
          others.push([]);
        }
      }
      const last = out.split('\n').findLast((l) => l.startsWith('{'));
      const result = last ? (JSON.parse(last) as Phases['result']) : undefined;
      if (!result) return reject(new Error(`no result line from the fixture: ${err.slice(-2000)}`));
      resolve({ main, others, result });
    });
  });
}

/**
 * Task lines beyond one per scavenge: 0 when each scavenge used one task. Summed over a phase rather
 * than checked per scavenge: when two threads' prefixes and messages interleave as "[A] [B] message
 * of A" (B's message next), a task line lands on the wrong isolate, one scavenge shows 0 tasks and
 * another 2, and the sum is still right.
 */
const helperTasks = (list: number[]): number => list.reduce((a, b) => a + b, 0) - list.length;

test('threads: while the pool fills the cores every worker scavenge uses one task; after close() they are parallel again', async () => {
  const { main, others, result } = await runPhases('thread');
  assert.equal(result.workers, availableParallelism());
  assert.equal(main.length, 3, 'the main isolate saw both full GCs of the fixture');
  const workers = others[1] ?? [];
  assert.ok(workers.length >= 20, `the worker threads scavenged (${workers.length} scavenges)`);
  const phase = [...workers, ...(main[1] ?? [])];
  assert.equal(helperTasks(phase), 0, `no scavenge used helper threads while the pool ran: ${JSON.stringify(phase)}`);
  const after = main[2] ?? [];
  assert.ok(after.length >= 20, `the client scavenged after close() (${after.length} scavenges)`);
  assert.ok(helperTasks(after) > 0, `after close() the same work used helper threads again: ${JSON.stringify(after)}`);
});

test('processes: a pool that fills the cores starts its workers with --no-parallel-scavenge', async () => {
  const { result } = await runPhases('process');
  assert.ok(result.execArgv.includes('--no-parallel-scavenge'), `worker execArgv: ${JSON.stringify(result.execArgv)}`);
});

test('processes: a pool that leaves a core idle starts its workers as they are', {
  skip: availableParallelism() < 2 && 'one core: every pool fills it',
}, async () => {
  const fexec = new FunctionExecutor({ workers: 1, progress: false, localhost: { isolation: 'process' } });
  try {
    const [argv] = await fexec.getResult(await fexec.map((_: number) => process.execArgv, [0]));
    assert.ok(!argv?.includes('--no-parallel-scavenge'), `worker execArgv: ${JSON.stringify(argv)}`);
  } finally {
    await fexec.close();
  }
});

test('threads: a process started with its own scavenging flag keeps it', async () => {
  // Forced on: the pool leaves it, and the same work as above uses helper threads in the workers.
  const { others } = await runPhases('thread', ['--parallel-scavenge']);
  const workers = others[1] ?? [];
  assert.ok(helperTasks(workers) > 0, `worker scavenges kept their helper threads: ${JSON.stringify(workers)}`);
  for (const flags of [
    ['--parallel-scavenge'],
    ['--no-parallel-scavenge'],
    ['--single-threaded-gc'],
    ['--single-threaded'],
    ['--parallel_scavenge'],
  ])
    assert.ok(scavengingChosen(flags), flags.join(' '));
  assert.ok(!scavengingChosen(['--max-old-space-size=512', '--import', 'tsx']));
});
