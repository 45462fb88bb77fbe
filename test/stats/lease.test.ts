/**
 * The client lease and job states: a lease is written at the first map and removed by close(); a
 * process that only holds a lease exits on its own (the timer is unref'd); a job with calls left and
 * no live lease reads as abandoned in the catalog and the dashboard's job list.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, FunctionExecutor } from '../../src/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { leaseKey, readLease } from '../../src/job/lease.ts';
import { DashboardData } from '../../src/dashboard/api.ts';
import { sleepMs } from '../fixtures/tasks.ts';
import { statusRecord, writeStatuses } from '../cli/helpers.ts';
import { keys } from '../../src/job/layout.ts';
import { MANIFEST_FORMAT } from '../../src/job/manifest.ts';
import { VERSION } from '../../src/version.ts';

test('an executor holds a lease from its first map until close()', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-lease-'));
  try {
    const storage = await createStorage('fs', { root });
    const fexec = new FunctionExecutor({ fs: { root }, workers: 1, leaseSeconds: 3, progress: false });
    assert.equal(await readLease(storage, 'burst', fexec.executorId), undefined, 'no lease before the first job');
    await fexec.getResult(await fexec.map(sleepMs, [1]));
    const first = await readLease(storage, 'burst', fexec.executorId);
    assert.ok(first && first.expiresAt > Date.now() && first.expiresAt - first.renewedAt === 3000);
    await new Promise((r) => setTimeout(r, 1500));
    const renewed = await readLease(storage, 'burst', fexec.executorId);
    assert.ok(renewed && renewed.renewedAt > first.renewedAt, 'renewed every third of its length');
    await fexec.close();
    assert.equal(await storage.exists('burst', leaseKey(fexec.executorId)), false, 'close() removes it');
    assert.throws(
      () => new FunctionExecutor({ leaseSeconds: 0 }),
      (e: unknown) =>
        e instanceof ConfigError && /leaseSeconds must be a number of seconds of at least 1, got 0/.test(e.message),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a lease never keeps a process alive', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-lease-exit-'));
  try {
    const code = `import { createStorage } from './src/storage/index.ts'; import { ClientLease } from './src/job/lease.ts';
      const s = await createStorage('fs', { root: ${JSON.stringify(root)} }); await s.createBucket('burst');
      await new ClientLease(s, 'burst', 'ex-1', 1).start(); console.log('leased');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: new URL('../../', import.meta.url).pathname,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exit = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(exit, 0);
    assert.match(out, /leased/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('job states: done, running while the lease lives, abandoned once it ran out', async () => {
  const storage = await createStorage('memory', {});
  await storage.createBucket('burst');
  const manifest = (executorId: string) => ({
    format: MANIFEST_FORMAT,
    burstVersion: VERSION,
    executorId,
    jobId: 'M000',
    callCount: 3,
    functionHash: 'f'.repeat(64),
    functionName: 'f',
    ranges: [],
    env: {},
    timeoutSeconds: 60,
    createdAt: Date.now(),
  });
  const now = Date.now();
  for (const [ex, lease, finished] of [
    ['ex-done', undefined, 3],
    ['ex-live', now + 60_000, 1],
    ['ex-gone', now - 1000, 1],
    ['ex-none', undefined, 1],
  ] as const) {
    await storage.put('burst', keys.manifest(keys.job(ex, 'M000')), JSON.stringify(manifest(ex)));
    await writeStatuses(
      storage,
      keys.job(ex, 'M000'),
      [0, 1, 2].slice(0, finished).map((i) => statusRecord(i, now)),
    );
    if (lease)
      await storage.put(
        'burst',
        leaseKey(ex),
        JSON.stringify({ holder: 'h:1', renewedAt: lease - 30_000, expiresAt: lease }),
      );
  }
  const list = await new DashboardData(storage, 'burst').jobs();
  const states = Object.fromEntries(list.map((j) => [j.executorId, j.state]));
  assert.deepEqual(states, { 'ex-done': 'done', 'ex-live': 'running', 'ex-gone': 'abandoned', 'ex-none': 'abandoned' });
  const detail = await new DashboardData(storage, 'burst').job('ex-gone/M000');
  assert.equal(detail.state, 'abandoned');
});
