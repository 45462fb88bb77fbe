/**
 * The result cache and speculative backups on the localhost backend, over its IPC channel and its
 * storage channel (what remote backends use); `burst jobs` and `burst clean --cache` on the result.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionExecutor } from '../../src/index.ts';
import { burst, ok, sandbox } from '../cli/helpers.ts';
import { echoEnv } from '../fixtures/cache-tasks.ts';
import { cacheSuite } from './cache-suite.ts';

const root = await mkdtemp(join(tmpdir(), 'burst-cache-'));
after(() => rm(root, { recursive: true, force: true }));

cacheSuite('localhost (IPC channel)', {
  options: () => ({ workers: 4, fs: { root: join(root, 'ipc') }, progress: false }),
  full: true,
});

cacheSuite('localhost (storage channel)', {
  options: () => ({
    workers: 4,
    fs: { root: join(root, 'storage') },
    localhost: { channel: 'storage' },
    progress: false,
  }),
});

test('cache hits show in `burst jobs`, and `burst clean --cache` removes the cache', async () => {
  const box = sandbox();
  try {
    const options = { workers: 2, fs: { root: box.root }, progress: false, cache: true };
    for (let i = 0; i < 2; i++) {
      const fexec = new FunctionExecutor(options);
      await fexec.getResult(await fexec.map(echoEnv, [1, 2], { extraArgs: { runs: 'cli-runs' } }));
      await fexec.close();
    }
    const jobs = JSON.parse(ok(await burst(['jobs', '--json'], box)).stdout) as Array<{ cached: number }>;
    assert.deepEqual(jobs.map((j) => j.cached).sort(), [0, 2], "the second run's two calls came from the cache");
    assert.match(ok(await burst(['jobs'], box)).stdout, /CACHED/);
    const cleaned = JSON.parse(ok(await burst(['clean', '--cache', '--json'], box)).stdout) as {
      cacheEntries: number;
    };
    assert.equal(cleaned.cacheEntries, 2);
    const fexec = new FunctionExecutor(options);
    const futures = await fexec.map(echoEnv, [1, 2], { extraArgs: { runs: 'cli-runs' } });
    await fexec.getResult(futures);
    assert.deepEqual(
      Array.from(futures, (f) => f.stats.cached ?? false),
      [false, false],
      'after clean --cache the calls run again',
    );
    await fexec.close();
  } finally {
    box.cleanup();
  }
});
