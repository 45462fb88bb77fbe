/**
 * Issue 15, finding 3: close() at any moment (during submission, during packaging, during a running
 * map) settles every future, leaves no worker process, and every rejection is a BurstError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BurstError, CancelledError, FunctionExecutor, type Future } from '../../src/index.ts';
import { markedSleep } from './fixtures/exec-tasks.ts';
import { ISOLATIONS, liveWorkers, pause, threadCount } from './helpers.ts';

/** Every future settled, each error a BurstError. */
function allSettledAsBurst(futures: readonly Future<unknown>[]): void {
  for (const f of futures) {
    assert.ok(f.done, `call ${f.callId} was left pending`);
    if (f.status === 'error')
      assert.ok(f.error instanceof BurstError, `call ${f.callId}: ${f.error?.name}: ${f.error?.message}`);
  }
}

for (const isolation of ISOLATIONS)
  test(`close() at any moment during map and callAsync leaves no worker ${isolation} and only BurstErrors`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-close-'));
    const marker = join(root, 'marker');
    const base = threadCount();
    const workers = (): number => liveWorkers(isolation, base);
    try {
      // 0 ms: during option checks and packaging; later: while the pool starts, while calls run.
      for (const delay of [0, 1, 5, 20, 60, 150, 400]) {
        for (const how of ['map', 'callAsync'] as const) {
          const fexec = new FunctionExecutor({ workers: 2, fs: { root }, localhost: { isolation }, progress: false });
          const submitted: Promise<Future<unknown>[]> =
            how === 'map'
              ? fexec.map(markedSleep, [300, 300, 300, 300], { extraArgs: { marker } })
              : fexec.callAsync(markedSleep, 300, { extraArgs: { marker } }).then((f) => [f]);
          const outcome = submitted.then(
            (futures) => ({ futures }),
            (error: unknown) => ({ error }),
          );
          await pause(delay);
          await fexec.close();
          const result = await outcome;
          if ('error' in result) {
            assert.ok(
              result.error instanceof BurstError,
              `${how} after ${delay} ms rejected with ${String(result.error)}`,
            );
            assert.ok(result.error instanceof CancelledError, `${how} after ${delay} ms: ${String(result.error)}`);
          } else {
            allSettledAsBurst(result.futures);
          }
          assert.equal(workers(), 0, `${how}, close after ${delay} ms: workers left right after close()`);
          // A pool started by a submission that lost the race would show up only now.
          await pause(300);
          assert.equal(workers(), 0, `${how}, close after ${delay} ms: workers started after close()`);
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

for (const isolation of ISOLATIONS)
  test(`close() during a running map settles every future with a CancelledError and stops every worker ${isolation}`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-close-'));
    const marker = join(root, 'marker');
    const base = threadCount();
    const fexec = new FunctionExecutor({ workers: 3, fs: { root }, localhost: { isolation }, progress: false });
    try {
      const futures = await fexec.map(
        markedSleep,
        Array.from({ length: 30 }, () => 200),
        { extraArgs: { marker } },
      );
      while (!futures.some((f) => f.done)) await pause(20);
      assert.ok(liveWorkers(isolation, base) >= 3, 'three workers run the calls');
      await fexec.close();
      allSettledAsBurst(futures);
      assert.ok(futures.some((f) => f.error instanceof CancelledError));
      assert.equal(liveWorkers(isolation, base), 0, 'no worker is left after close()');
      await assert.rejects(fexec.map(markedSleep, [1], { extraArgs: { marker } }), CancelledError);
    } finally {
      await fexec.close();
      await rm(root, { recursive: true, force: true });
    }
  });
