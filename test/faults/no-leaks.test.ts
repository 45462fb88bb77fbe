/**
 * Fault 7 of issue 8: executors used many times leave nothing behind: no growth in handles, timers,
 * child processes or memory (bounds on counts, not times), and close() leaves nothing running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor } from '../../src/index.ts';
import { addSeven } from '../fixtures/tasks.ts';
import { ISOLATIONS, threadCount } from './helpers.ts';

type Internals = { _getActiveHandles(): unknown[]; _getActiveRequests(): unknown[] };
const handles = (): number => (process as unknown as Internals)._getActiveHandles().length;
const childProcesses = (): number => {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)])
    .toString()
    .trim();
  return out ? out.split('\n').length - 1 : 0; // minus the ps itself
};

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

for (const isolation of ISOLATIONS)
  test(`100 executors one after another and one executor with 1,000 jobs leak nothing (isolation: ${isolation})`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-leaks-'));
    const children = (): number => (isolation === 'process' ? childProcesses() : threadCount());
    try {
      // Warm up module loading and the packager's caches before taking the baseline.
      const warm = new FunctionExecutor({ workers: 1, fs: { root }, localhost: { isolation }, progress: false });
      await warm.getResult(await warm.map(addSeven, [1]));
      await warm.close();
      await settle();
      const baseHandles = handles();
      const baseChildren = children();

      for (let i = 0; i < 100; i++) {
        const fexec = new FunctionExecutor({ workers: 1, fs: { root }, localhost: { isolation }, progress: false });
        assert.deepEqual(await fexec.getResult(await fexec.map(addSeven, [i])), [i + 7]);
        await fexec.close();
      }
      await settle();
      assert.ok(handles() <= baseHandles, `handles grew from ${baseHandles} to ${handles()} after 100 executors`);
      assert.equal(children(), baseChildren, `no worker ${isolation} outlives close()`);

      const fexec = new FunctionExecutor({ workers: 2, fs: { root }, localhost: { isolation }, progress: false });
      await fexec.getResult(await fexec.map(addSeven, [0]));
      const withPool = children();
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const handlesDuring = handles();
      for (let j = 0; j < 1000; j++) {
        await fexec.getResult(await fexec.map(addSeven, [j, j + 1]));
      }
      await settle();
      assert.ok(handles() <= handlesDuring, `handles grew from ${handlesDuring} to ${handles()} over 1,000 jobs`);
      global.gc?.();
      const growth = process.memoryUsage().heapUsed - heapBefore;
      assert.ok(growth < 64 * 2 ** 20, `heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB over 1,000 jobs`);
      assert.equal(children(), withPool, 'the pool is reused: no worker added or lost');
      if (isolation === 'process') assert.equal(children(), baseChildren + 2, 'two worker processes');
      await fexec.close();
      await settle();
      assert.equal(children(), baseChildren);
      assert.ok(handles() <= baseHandles);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
