/**
 * Issue 14 finding 12 and issue 15, on real worker processes: hostile thrown values fail the call
 * with a RemoteError (never a WorkerCrashError), and non-Error values come back as thrown.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, RemoteError, SerializationError } from '../../src/index.ts';
import { throwHostile } from '../fixtures/hostile-throws.ts';

const root = await mkdtemp(join(tmpdir(), 'burst-hostile-'));
after(() => rm(root, { recursive: true, force: true }));

for (const channel of ['ipc', 'storage'] as const) {
  test(`hostile thrown values are RemoteErrors and thrown values survive (${channel} channel)`, async () => {
    const fexec = new FunctionExecutor({
      workers: 2,
      fs: { root },
      progress: false,
      ...(channel === 'storage' ? { localhost: { channel } } : {}),
    });
    try {
      const kinds = [
        'getters',
        'toString',
        'proxy',
        'cycle',
        'undefined',
        'bigint',
        'symbol',
        'fine',
        'return-proxy',
        'return-getter',
      ];
      const futures = await fexec.map(throwHostile, kinds);
      const results = await fexec.getResult(futures, { throwOnError: false });
      for (let i = 0; i < 7; i++) {
        assert.ok(
          results[i] instanceof RemoteError,
          `${kinds[i]}: got ${String((results[i] as Error)?.name)} ${String((results[i] as Error)?.message)}`,
        );
      }
      const [getters, , , cycle, undef, big, sym] = results as RemoteError[];
      assert.match(getters!.message, /message could not be read/);
      assert.equal(cycle!.remoteName, 'RangeError');
      assert.ok(undef && 'thrown' in undef && undef.thrown === undefined, 'throw undefined gives thrown === undefined');
      assert.equal(big!.thrown, 10n);
      assert.equal(sym!.thrown, 'Symbol(reason)');
      assert.equal(results[7], 'fine');
      // A returned Proxy whose traps throw fails its call (its traps run when the worker inspects the value), never the process.
      assert.ok(
        results[8] instanceof RemoteError || results[8] instanceof SerializationError,
        `return-proxy: got ${String((results[8] as Error)?.name)}`,
      );
      const e = results[9] as SerializationError;
      assert.ok(
        e instanceof SerializationError,
        `return-getter: got ${String((e as Error)?.name)} ${String((e as Error)?.message)}`,
      );
      assert.match(e.path ?? '', /^result/);
    } finally {
      await fexec.close();
    }
  });
}

test('a Proxy input is refused before anything runs, with the path input[0]', async () => {
  const fexec = new FunctionExecutor({ workers: 1, fs: { root }, progress: false });
  try {
    const trap = (): never => {
      throw new Error('trap');
    };
    for (const input of [new Proxy({ a: 1 }, {}), new Proxy({}, { ownKeys: trap, get: trap, getPrototypeOf: trap })]) {
      await assert.rejects(
        fexec.map(throwHostile, [input as never, 'fine']),
        (e: unknown) => e instanceof SerializationError && e.path === 'input[0]',
      );
    }
  } finally {
    await fexec.close();
  }
});
