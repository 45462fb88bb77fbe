/**
 * Issue 15, finding 1: a SIGKILLed worker must not make calls it had finished run again. Every call
 * appends to a marker file when it starts, so these tests count executions, not results: every
 * attempt ran at most once, the attempt that succeeded ran exactly once, no attempt ran that the
 * future does not report, and with `retries: 0` nothing runs twice at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, TimeoutError, WorkerCrashError, type Future } from '../../src/index.ts';
import { markedChaos, markedMayhem, markedSleep } from './fixtures/exec-tasks.ts';
import { executions, pause } from './helpers.ts';

/** Kills `count` worker processes that have run calls of `futures`, one every `everyMs`. */
async function killWorkers(futures: readonly Future<unknown>[], count: number, everyMs: number): Promise<number> {
  const killed = new Set<number>();
  while (killed.size < count && futures.some((f) => !f.done)) {
    await pause(everyMs);
    const pids = [
      ...new Set(Array.from(futures, (f) => f.stats.pid).filter((p): p is number => !!p && !killed.has(p))),
    ];
    const pid = pids[Math.floor(Math.random() * pids.length)];
    if (pid === undefined) continue;
    killed.add(pid);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return killed.size;
}

/** Checks executions against the futures; returns how many calls were blamed for a crash. */
function checkExactlyOnce(futures: readonly Future<unknown>[], marker: string): number {
  const runs = new Map<string, number>();
  for (const e of executions(marker))
    runs.set(`${e.callId}/${e.attempt}`, (runs.get(`${e.callId}/${e.attempt}`) ?? 0) + 1);
  let crashed = 0;
  for (const f of futures) {
    assert.ok(f.done, `call ${f.callId} never settled`);
    for (let a = 1; a <= f.stats.attempt; a++) {
      const n = runs.get(`${f.callId}/${a}`) ?? 0;
      assert.ok(n <= 1, `call ${f.callId} attempt ${a} ran ${n} times`);
      // A failed attempt may show 0 runs: a SIGKILL can land after the worker marked the call started
      // and before the function's first line. The attempt that succeeded ran exactly once.
      if (a === f.stats.attempt && f.status === 'success')
        assert.equal(n, 1, `call ${f.callId} succeeded on attempt ${a}, which ran ${n} times`);
    }
    assert.equal(
      runs.get(`${f.callId}/${f.stats.attempt + 1}`),
      undefined,
      `call ${f.callId} ran an attempt it does not report`,
    );
    if (f.status === 'error' && f.error instanceof WorkerCrashError) crashed++;
  }
  return crashed;
}

test('SIGKILLs during a map with retries: 0: no finished call runs again, only the running call is blamed', async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-once-'));
  const marker = join(root, 'marker');
  const fexec = new FunctionExecutor({
    workers: 2,
    localhost: { isolation: 'process' },
    retries: 0,
    fs: { root },
    progress: false,
  });
  try {
    const inputs = Array.from({ length: 600 }, (_, i) => 1 + (i % 4));
    const futures = await fexec.map(markedSleep, inputs, { extraArgs: { marker } });
    const kills = await killWorkers(futures, 6, 150);
    await fexec.getResult(futures, { throwOnError: false, timeout: 120 });
    assert.ok(kills >= 3, `only ${kills} kills happened`);
    const crashed = checkExactlyOnce(futures, marker);
    assert.ok(crashed >= 1 && crashed <= kills, `${crashed} calls blamed for ${kills} kills`);
    for (const f of futures) {
      assert.equal(f.stats.attempt, 1, 'retries: 0 means every call reports attempt 1');
      if (f.status === 'error') assert.ok(f.error instanceof WorkerCrashError, `call ${f.callId}: ${f.error?.message}`);
      else assert.equal(await f.result(), inputs[f.callId]);
    }
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('2,000 calls with random exits, exceptions and SIGKILLs, retries: 2: nothing lost, no successful call ran twice', async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-once-'));
  const marker = join(root, 'marker');
  const fexec = new FunctionExecutor({
    workers: 2,
    localhost: { isolation: 'process' },
    retries: 2,
    fs: { root },
    progress: false,
  });
  try {
    const inputs = Array.from({ length: 2000 }, (_, i) => i);
    const futures = await fexec.map(markedChaos, inputs, { extraArgs: { marker } });
    const kills = await killWorkers(futures, 8, 200);
    const results = await fexec.getResult(futures, { throwOnError: false, timeout: 300 });
    assert.ok(kills >= 3, `only ${kills} kills happened`);
    checkExactlyOnce(futures, marker);
    results.forEach((r, i) => {
      if (!(r instanceof Error)) assert.equal(r, i, "every result is its own call's");
    });
    assert.ok(
      futures.some((f) => f.stats.attempt > 1),
      'some calls were retried',
    );
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('worker threads (the default): 2,000 calls with random exits, exceptions, uncaught errors and runaway loops, retries: 2: nothing lost, no successful call ran twice', async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-once-'));
  const marker = join(root, 'marker');
  // A runaway loop is stopped by its timeout: the thread is terminated, the call blamed and retried.
  const fexec = new FunctionExecutor({ workers: 2, retries: 2, timeout: 2, fs: { root }, progress: false });
  try {
    const inputs = Array.from({ length: 2000 }, (_, i) => i);
    const futures = await fexec.map(markedMayhem, inputs, { extraArgs: { marker } });
    const results = await fexec.getResult(futures, { throwOnError: false, timeout: 300 });
    checkExactlyOnce(futures, marker);
    results.forEach((r, i) => {
      if (!(r instanceof Error)) assert.equal(r, i, "every result is its own call's");
    });
    const errors = futures.flatMap((f) => f.attempts);
    assert.ok(
      errors.some((e) => e instanceof WorkerCrashError && /uncaught error of call/.test(e.message)),
      'an uncaught error ended a thread',
    );
    assert.ok(
      errors.some((e) => e instanceof WorkerCrashError && e.exitCode === 7),
      'process.exit(7) ended a thread',
    );
    assert.ok(
      errors.some((e) => e instanceof TimeoutError),
      'a runaway loop was stopped by its timeout',
    );
    assert.ok((fexec.counters()['backend.spawned'] ?? 0) > 2, 'dead threads were replaced');
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
});
