/**
 * Fault 1 of issue 8: worker processes killed with SIGKILL at random during a 1,000-call map with
 * `retries: 2`. Every result must be correct, none duplicated, and the retried calls show it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, WorkerCrashError } from '../../src/index.ts';
import { sleepMs } from '../fixtures/tasks.ts';

test('20 random SIGKILLs during 1,000 calls lose and duplicate nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-kill-'));
  const fexec = new FunctionExecutor({
    workers: 2,
    localhost: { isolation: 'process' },
    retries: 2,
    fs: { root },
    progress: false,
  });
  try {
    const inputs = Array.from({ length: 1000 }, (_, i) => (i % 7) + 1);
    const futures = await fexec.map(sleepMs, inputs);
    const killed = new Set<number>();
    let kills = 0;
    while (kills < 20 && futures.some((f) => !f.done)) {
      await new Promise((r) => setTimeout(r, 60));
      // The pids of processes that have run calls; kill one we have not killed yet.
      const live = [
        ...new Set(Array.from(futures, (f) => f.stats.pid).filter((p): p is number => !!p && !killed.has(p))),
      ];
      const pid = live[Math.floor(Math.random() * live.length)];
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
        kills++;
      } catch {
        killed.add(pid); // already gone
      }
    }
    const results = await fexec.getResult(futures, { timeout: 120 });
    assert.deepEqual(results, inputs, 'every result is the right one, in order');
    assert.ok(kills >= 10, `only ${kills} kills happened before the job ended`);
    const retried = futures.filter((f) => f.stats.attempt > 1);
    assert.ok(retried.length >= 1, 'some calls were running when their process was killed');
    for (const f of retried) {
      assert.ok(
        f.attempts.every((e) => e instanceof WorkerCrashError && e.signal === 'SIGKILL'),
        'retried because of the kill',
      );
    }
    const counters = fexec.counters();
    assert.ok((counters['backend.crashed'] ?? 0) >= retried.length);
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
});
