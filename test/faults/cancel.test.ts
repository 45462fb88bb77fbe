/**
 * Issue 15: cancelling one call, a whole job, or through an AbortSignal. Cancelled calls settle with
 * CancelledError at once; a running one sees ctx.signal fire on the worker, and a process that ignores
 * it is killed and replaced; calls not started never start (counted from a marker file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, FunctionExecutor } from '../../src/index.ts';
import { awaitAbort, markedSleep } from './fixtures/exec-tasks.ts';
import { alive, cpuOver, executions, ISOLATIONS, pause } from './helpers.ts';

async function withExecutor(
  fn: (fexec: FunctionExecutor, marker: string) => Promise<void>,
  isolation: (typeof ISOLATIONS)[number] = 'thread',
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'burst-cancel-'));
  const fexec = new FunctionExecutor({ workers: 2, fs: { root }, localhost: { isolation }, progress: false });
  try {
    await fn(fexec, join(root, 'marker'));
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await pause(50);
  assert.ok(check(), `timed out waiting until ${what}`);
}

for (const isolation of ISOLATIONS)
  test(`future.cancel(): ctx.signal fires in the worker; a call that ignores it has its worker ${isolation} stopped and replaced`, async () => {
    await withExecutor(async (fexec, marker) => {
      const obeying = await fexec.callAsync(awaitAbort, 'obey', { extraArgs: { marker } });
      const ignoring = await fexec.callAsync(awaitAbort, 'ignore', { extraArgs: { marker } });
      await until(() => executions(marker).filter((e) => e.what === 'run').length === 2, 'both calls started');
      assert.equal(obeying.cancel('no longer needed'), true);
      assert.equal(ignoring.cancel(), true);
      await assert.rejects(
        obeying.result(),
        (err: unknown) => err instanceof CancelledError && /no longer needed/.test(err.message),
      );
      await assert.rejects(ignoring.result(), CancelledError);
      assert.equal(obeying.cancel(), false, 'a settled future cannot be cancelled again');
      await until(
        () => executions(marker).filter((e) => e.what === 'aborted').length === 2,
        'both calls saw ctx.signal abort',
      );
      const ignorer = executions(marker).filter((e) => e.what === 'aborted');
      // Both calls are call 0 of their job; the one that ignores the signal is the busy one: its process dies.
      if (isolation === 'process')
        await until(() => ignorer.some((e) => !alive(e.pid)), 'the process ignoring its abort signal was killed');
      await until(() => (fexec.counters()['backend.cancelKills'] ?? 0) >= 1, 'the kill was counted');

      // The pool replaced it: new calls run on two processes again.
      const after = await fexec.map(markedSleep, [50, 50, 50, 50], { extraArgs: { marker } });
      assert.deepEqual(await after.getResult(), [50, 50, 50, 50]);
      assert.ok((fexec.counters()['backend.spawned'] ?? 0) >= 3, 'a worker was started to replace the killed one');
      // Now that the replacement has booted, a thread still spinning in the ignored loop would use
      // about all of the CPU time measured.
      if (isolation === 'thread')
        assert.ok((await cpuOver(1000)) < 500, 'the thread ignoring its abort signal was stopped');
    }, isolation);
  });

test('futures.cancel() cancels a whole job: running calls are aborted, queued calls never start', async () => {
  await withExecutor(async (fexec, marker) => {
    const futures = await fexec.map(
      markedSleep,
      Array.from({ length: 40 }, () => 400),
      { extraArgs: { marker } },
    );
    await until(() => executions(marker).length >= 2, 'two calls started');
    const cancelled = futures.cancel();
    assert.ok(cancelled >= 36, `only ${cancelled} calls cancelled`);
    for (const f of futures) if (f.status === 'error') assert.ok(f.error instanceof CancelledError);
    const results = await futures.getResult({ throwOnError: false });
    assert.equal(results.filter((r) => r instanceof CancelledError).length, cancelled);
    await pause(1500); // long enough for ten more calls of 400 ms on two workers had they not been dropped
    const ran = new Set(executions(marker).map((e) => e.callId)).size;
    assert.ok(ran <= 6, `${ran} of 40 calls started although the job was cancelled`);
  });
});

test('signal on map cancels the job (cause is its reason); on getResult and wait it only stops the wait', async () => {
  await withExecutor(async (fexec, marker) => {
    const controller = new AbortController();
    const futures = await fexec.map(
      markedSleep,
      Array.from({ length: 10 }, () => 2000),
      { extraArgs: { marker }, signal: controller.signal },
    );
    const reason = new Error('user pressed stop');
    controller.abort(reason);
    for (const f of futures) {
      assert.ok(f.error instanceof CancelledError);
      assert.equal(f.error.cause, reason);
    }
    // Already aborted: map and callAsync reject at once, nothing runs.
    await assert.rejects(
      fexec.map(markedSleep, [1], { extraArgs: { marker }, signal: controller.signal }),
      (err: unknown) => err instanceof CancelledError && err.cause === reason,
    );
    await assert.rejects(
      fexec.callAsync(markedSleep, 1, { extraArgs: { marker }, signal: AbortSignal.abort('why') }),
      CancelledError,
    );

    const slow = await fexec.map(markedSleep, [600, 600], { extraArgs: { marker } });
    const stopWait = new AbortController();
    const waiting = fexec.getResult(slow, { signal: stopWait.signal });
    const waiting2 = fexec.wait(slow, { signal: stopWait.signal });
    stopWait.abort('enough');
    await assert.rejects(waiting, (err: unknown) => err instanceof CancelledError && err.cause === 'enough');
    await assert.rejects(waiting2, CancelledError);
    assert.deepEqual(await fexec.getResult(slow), [600, 600], 'the calls went on');
    await assert.rejects(
      fexec.map(markedSleep, [1], { signal: 'nope' as unknown as AbortSignal }),
      /signal must be an AbortSignal/,
    );
  });
});
