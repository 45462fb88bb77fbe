/**
 * A third-party storage driver is a module that exports a definition and registers it: registered
 * from a test file, it serves a real map over the storage channel, where each call runs in a
 * `burst worker run` process that has never heard of the driver and imports it from the job's
 * storage config (`module`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  FunctionExecutor,
  Storage,
  createStorage,
  memory,
  registerStorage,
  storageDrivers,
} from '../../src/index.ts';
import { storageCapabilitiesOf } from '../../src/storage/registry.ts';
import type { StorageDriver } from '../../src/storage/types.ts';
import { tagged } from '../fixtures/storage/tagged-driver.ts';

test('a registered third-party driver runs a map over the storage channel, workers importing it', {
  timeout: 180_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-tagged-'));
  const log = join(root, 'created.log');
  try {
    assert.ok(storageDrivers().includes('tagged'));
    const fexec = new FunctionExecutor({
      storage: 'tagged',
      tagged: { root, log },
      localhost: { channel: 'storage' },
      workers: 2,
      progress: false,
    });
    try {
      const futures = await fexec.map((x: number) => x * 3, [1, 2, 3, 4], { chunksize: 1 });
      assert.deepEqual(await Promise.all(Array.from(futures, (f) => f.result({ timeout: 120 }))), [3, 6, 9, 12]);
    } finally {
      await fexec.close();
    }
    // Every process that created the driver logged its pid: the client and the worker processes.
    const pids = (await readFile(log, 'utf8')).trim().split('\n').map(Number);
    const workerPids = new Set(pids.filter((p) => p !== process.pid));
    assert.ok(pids.includes(process.pid), 'the client created the driver');
    assert.equal(workerPids.size, 4, 'each of the 4 worker processes (one call each) imported and created the driver');
    // The job went through the driver's own layout (fs under <root>/tagged/), nowhere else.
    assert.deepEqual((await readdir(root)).sort(), ['created.log', 'tagged']);
    assert.deepEqual(await readdir(join(root, 'tagged')), ['burst']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a third-party driver is checked by its own schema and asked for its capabilities', async () => {
  await assert.rejects(
    createStorage('tagged', { roott: '/x' }),
    (e) => e instanceof ConfigError && /unknown tagged storage option "roott"; did you mean "root"\?/.test(e.message),
  );
  assert.throws(
    () => new FunctionExecutor({ storage: 'tagged', tagged: { root: 7 as never } }),
    (e) => e instanceof ConfigError && e.keyPath === 'tagged.root' && /must be a path, got 7/.test(e.message),
  );
  assert.deepEqual(storageCapabilitiesOf({ driver: 'tagged', options: {} }), tagged.capabilities({}));
  const storage = new Storage({ driver: 'tagged', root: await mkdtemp(join(tmpdir(), 'burst-tagged-')) });
  assert.equal((await storage.driver()).config.module, tagged.module, 'the config says where workers find the driver');
  await storage.close?.();
});

test('the executor asks capabilities, not names: a driver that lives in one process is refused like memory', async () => {
  let created = 0;
  registerStorage({
    name: 'inproc',
    summary: 'memory under another name',
    options: (z) => z.object({}),
    capabilities: () => ({ presign: false, multipart: false, remote: false, processes: false, local: true }),
    create: async () => {
      created++;
      // Memory's methods and capabilities under its own name: no name check can recognise it.
      return Object.assign(Object.create(memory()) as StorageDriver, { name: 'inproc' });
    },
  });
  for (const channel of ['ipc', 'storage'] as const) {
    const fexec = new FunctionExecutor({ storage: 'inproc', localhost: { channel }, workers: 1, progress: false });
    try {
      await assert.rejects(
        fexec.map((x: number) => x, [1]),
        (e) =>
          e instanceof ConfigError &&
          e.keyPath === 'storage' &&
          /^the inproc storage lives in this process/.test(e.message),
      );
    } finally {
      await fexec.close();
    }
  }
  assert.equal(created, 2, 'the driver was created, then refused for its capabilities');
});

test('a storage config naming a data: or http: module is refused, and its code never runs', async () => {
  const { openStorageConfig } = await import('../../src/storage/index.ts');
  const marker = `__burst_module_${process.pid}`;
  for (const module of [`data:text/javascript,globalThis.${marker}=1`, 'http://127.0.0.1:9/driver.js']) {
    await assert.rejects(openStorageConfig({ driver: 'evil', options: {}, module }), (e: unknown) => {
      assert.equal((e as { name?: string }).name, 'ConfigError');
      assert.equal((e as { keyPath?: string }).keyPath, 'storage.module');
      return true;
    });
  }
  assert.equal((globalThis as Record<string, unknown>)[marker], undefined, 'code carried in a config ran');
});
