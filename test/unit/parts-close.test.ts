/**
 * An executor's parts close in order and completely (src/executor/parts.ts): the workers stop while
 * the caller's other closing steps run, the lease is released only after that, storage last, and a
 * step that fails neither stops the others nor goes unreported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError } from '../../src/errors.ts';
import { resolveOptions } from '../../src/config/defaults.ts';
import { ExecutorParts } from '../../src/executor/parts.ts';

test('close(): a failing step is thrown after every other step ran, and the lease goes after the workers', async () => {
  const root = mkdtempSync(join(tmpdir(), 'burst-parts-close-'));
  try {
    const parts = new ExecutorParts(
      resolveOptions({ progress: false, workers: 1, storage: 'fs', fs: { root } }),
      'parts-close-test',
    );
    const { backend, storage } = await parts.ready();
    backend.warm?.();
    const order: string[] = [];
    const closeBackend = backend.close.bind(backend);
    backend.close = async () => {
      await closeBackend();
      order.push('workers stopped');
    };
    const closeStorage = storage.close?.bind(storage);
    storage.close = async () => {
      await closeStorage?.();
      order.push('storage closed');
    };
    // A step that fails at once, while close() may still be waiting on other parts.
    const failing = Promise.reject(new Error('the primitives could not close'));
    await assert.rejects(
      parts.close({ beforeLease: [failing], releaseLease: () => order.push('lease released') }),
      /the primitives could not close/,
    );
    assert.deepEqual(order, ['workers stopped', 'lease released', 'storage closed']);
    // The backend is closed for good: nothing more can start on it.
    const job = { executorId: 'parts-close-test', jobId: 'M000', bundlePath: '', env: {}, timeoutMs: 1000 };
    assert.throws(
      () => backend.direct?.submit({ job, calls: [], onRecord: () => {} }),
      (err: unknown) => err instanceof CancelledError,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
