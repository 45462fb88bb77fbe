import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, FunctionExecutor } from '../../src/index.ts';

const addOne = (x: number): number => x + 1;

// A map's own options are checked before its workers start or its futures exist: a bad one leaves
// nothing pending that a later getResult() of every unread future would wait on forever.
for (const [options, keyPath] of [
  [{ runtimeMemory: 8 }, 'runtimeMemory'],
  [{ oomRetry: { factor: 0.5, maxMemory: 1024 }, runtimeMemory: 256 }, 'oomRetry.factor'],
] as const) {
  test(`a map with ${JSON.stringify(options)} fails with a ConfigError, starts no worker and leaves nothing unread`, async () => {
    const fexec = new FunctionExecutor({ progress: false, workers: 2 });
    try {
      await assert.rejects(fexec.map(addOne, [1, 2, 3], options), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal(err.keyPath, keyPath);
        return true;
      });
      const unread = await Promise.race([
        fexec.getResult(),
        new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 5_000).unref()),
      ]);
      assert.deepEqual(unread, []);
      assert.equal(fexec.counters()['backend.spawned'] ?? 0, 0);
      // The executor still works.
      assert.deepEqual(await fexec.getResult(await fexec.map(addOne, [1, 2, 3])), [2, 3, 4]);
      assert.equal(fexec.counters()['backend.spawned'], 2);
    } finally {
      await fexec.close();
    }
  });
}
