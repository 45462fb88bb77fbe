/**
 * `retryFailed`: re-runs only the failed calls of a finished job, with the same inputs, as their next
 * attempt; on the localhost IPC channel, the storage channel, and from another process that attached
 * to the job. Executions are counted with marker files: each failed call runs exactly twice, every
 * other call exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, FunctionExecutor, RemoteError, type ExecutorOptions } from '../../src/index.ts';
import { countedRun, runsOf } from './fixtures/counted.ts';

const IDS = [0, 1, 2, 3, 4, 5];
/** Odd ids fail on their first run. */
const inputs = (dir: string) => IDS.map((id) => ({ dir, id, failFirst: id % 2 === 1 }));

for (const channel of ['ipc', 'storage'] as const) {
  test(`retryFailed re-runs only the failed calls (localhost ${channel} channel)`, { timeout: 120_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-retry-'));
    const fexec = new FunctionExecutor({ localhost: { channel }, fs: { root }, workers: 2, progress: false });
    try {
      const futures = await fexec.map(countedRun, inputs(root));
      const first = await fexec.getResult(futures, { throwOnError: false });
      assert.deepEqual(
        first.map((r) => r instanceof RemoteError),
        IDS.map((id) => id % 2 === 1),
      );
      const again = await fexec.retryFailed(futures);
      assert.deepEqual(
        Array.from(again, (f) => f.callId),
        [1, 3, 5],
      );
      assert.deepEqual(await fexec.getResult(again), [10, 30, 50]);
      assert.deepEqual(
        Array.from(again, (f) => f.stats.attempt),
        [2, 2, 2],
        'attempt numbers continue',
      );
      assert.deepEqual(runsOf(root, IDS), [1, 2, 1, 2, 1, 2], 'only the failed calls ran again, once each');
      assert.equal((await fexec.retryFailed(futures)).length, 0, 'calls already re-run are not run a third time');
      assert.deepEqual(runsOf(root, IDS), [1, 2, 1, 2, 1, 2]);
    } finally {
      await fexec.close();
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('retryFailed on a job attached from another process', { timeout: 120_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-retry-attached-'));
  const options: ExecutorOptions = { localhost: { channel: 'storage' }, fs: { root }, workers: 2, progress: false };
  try {
    const first = new FunctionExecutor(options);
    try {
      await first.getResult(await first.map(countedRun, inputs(root)), { throwOnError: false });
    } finally {
      await first.close();
    }
    const fexec = await FunctionExecutor.attach(first.executorId, { fs: { root }, progress: false });
    try {
      const attached = (await fexec.wait(undefined, { timeout: 30 })).done;
      assert.equal(attached.length, 6);
      const again = await fexec.retryFailed();
      assert.deepEqual(Array.from(again, (f) => f.callId).sort(), [1, 3, 5]);
      assert.deepEqual(await fexec.getResult(again), [10, 30, 50]);
      assert.deepEqual(runsOf(root, IDS), [1, 2, 1, 2, 1, 2]);
    } finally {
      await fexec.close();
    }
    // An IPC job's inputs lived only in its client: another process cannot re-run it, and says so.
    const ipc = new FunctionExecutor({ fs: { root }, workers: 1, progress: false });
    await ipc.getResult(await ipc.map(countedRun, [{ dir: root, id: 9, failFirst: true }]), { throwOnError: false });
    await ipc.close();
    const other = await FunctionExecutor.attach(ipc.executorId, { fs: { root }, progress: false });
    try {
      await other.wait(undefined, { timeout: 30 });
      await assert.rejects(
        other.retryFailed(),
        (e: unknown) => e instanceof ConfigError && /cannot be re-run from this process/.test(e.message),
      );
    } finally {
      await other.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
