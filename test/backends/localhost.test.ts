import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, FunctionExecutor } from '../../src/index.ts';
import { markedSleep } from '../faults/fixtures/exec-tasks.ts';
import { executions, pause } from '../faults/helpers.ts';
import { backendSuite } from './suite.ts';

let root: string | undefined;
const fsRoot = async (): Promise<string> => (root ??= await mkdtemp(join(tmpdir(), 'burst-localhost-')));

backendSuite('localhost (IPC channel, worker threads: the default)', {
  options: async () => ({ workers: 2, fs: { root: await fsRoot() }, progress: false }),
  sameProcess: true,
});

backendSuite('localhost (IPC channel, worker processes)', {
  options: async () => ({
    workers: 2,
    fs: { root: await fsRoot() },
    localhost: { isolation: 'process' },
    progress: false,
  }),
});

backendSuite('localhost (storage channel, as remote backends)', {
  options: async () => ({
    workers: 2,
    fs: { root: await fsRoot() },
    localhost: { channel: 'storage' },
    progress: false,
  }),
  cleanup: async () => {
    if (root) await rm(root, { recursive: true, force: true });
  },
});

// Issue 15: on the storage channel (as on remote backends) a cancelled job settles on the client at
// once and its queued invocations are never started (executions counted from a marker file).
test('storage channel: futures.cancel() settles every call and queued invocations never run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'burst-localhost-cancel-'));
  const marker = join(dir, 'marker');
  const fexec = new FunctionExecutor({
    workers: 1,
    fs: { root: dir },
    localhost: { channel: 'storage' },
    progress: false,
  });
  try {
    const futures = await fexec.map(
      markedSleep,
      Array.from({ length: 6 }, () => 1500),
      { extraArgs: { marker }, chunksize: 1 },
    );
    for (let i = 0; i < 400 && executions(marker).length === 0; i++) await pause(50);
    assert.equal(futures.cancel(), 6);
    const results = await futures.getResult({ throwOnError: false });
    assert.ok(results.every((r) => r instanceof CancelledError));
    await pause(3500); // two more calls would have started by now, had their invocations not been dropped
    assert.equal(executions(marker).length, 1, 'only the call already running ran');
  } finally {
    await fexec.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('workers start as a map is called, before its futures are made; an empty map starts none', async () => {
  const fexec = new FunctionExecutor({ workers: 2, fs: { root: await fsRoot() }, progress: false });
  try {
    assert.deepEqual(await fexec.getResult(await fexec.map((x: number) => x, [])), []);
    assert.equal(fexec.counters()['backend.spawned'] ?? 0, 0, 'an empty map starts no worker');
    assert.deepEqual(await fexec.getResult(await fexec.map((x: number) => x * 2, [1, 2, 3])), [2, 4, 6]);
    assert.equal(fexec.counters()['backend.spawned'], 2);
  } finally {
    await fexec.close();
  }
});
