/**
 * The storage monitor reads statuses through src/job/: records of the current layout
 * (`status/<call>.<attempt>`) and of the older one (`status/<call>`, output under `output/<call>`),
 * call ids of 10^6 and more, and the newest attempt of a call. Real memory storage; the compute
 * backend is a fake with no lost-call check (the monitor asks it nothing else).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory } from '../../src/storage/index.ts';
import { StorageMonitor } from '../../src/monitor/storage-monitor.ts';
import type { ComputeBackend, JobDescriptor } from '../../src/backends/types.ts';
import { jobKey, keys } from '../../src/job/layout.ts';
import { encodeStatus } from '../../src/job/status.ts';
import type { CallRecord } from '../../src/worker/protocol.ts';

const stats = { workerStart: 1, fnStart: 2, fnEnd: 3, cold: true, bytesIn: 0, bytesOut: 0, hostname: 'h', pid: 1 };

test('the monitor settles calls from current and older-layout status keys (fake backend)', async () => {
  const storage = memory();
  const bucket = 'jobplane-monitor';
  await storage.createBucket(bucket);
  const key = jobKey('E9', 'M000');
  const job = {
    executorId: 'E9',
    jobId: 'M000',
    bucket,
    jobKey: key,
    storage: storage.config,
    callCount: 1_000_001,
    chunksize: 1,
    timeoutSeconds: 30,
    env: {},
  } as JobDescriptor;
  const big = 1_000_000;
  // Current layout: two attempts of call 10^6, the newer one written first; the result inline.
  await storage.put(
    bucket,
    keys.status(key, big, 2),
    encodeStatus({ callId: big, ok: true, attempt: 2, output: new Uint8Array([2]), stats }, 20),
  );
  await storage.put(
    bucket,
    keys.status(key, big, 1),
    encodeStatus({ callId: big, ok: true, attempt: 1, output: new Uint8Array([1]), stats }, 30),
  );
  // Older layout: no attempt in the keys; the result stored separately.
  await storage.put(
    bucket,
    keys.legacyStatus(key, 3),
    JSON.stringify({ callId: 3, ok: true, attempt: 1, outputStored: true, stats }),
  );
  await storage.put(bucket, keys.legacyOutput(key, 3), new Uint8Array([3, 3, 3]));
  const backend = { name: 'fake' } as unknown as ComputeBackend;
  const monitor = new StorageMonitor(storage, backend, { min: 5, max: 20 });
  const got = new Map<number, CallRecord>();
  let failed: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      // A poll that fails (a record it cannot read) fails the test instead of hanging it.
      failed = setInterval(() => {
        if (monitor.lastError) reject(monitor.lastError as Error);
      }, 10);
      const onRecord = (r: CallRecord): void => {
        got.set(r.callId, r);
        if (got.size === 2) resolve();
      };
      monitor.expect(job, [3, big], 1, onRecord);
    });
  } finally {
    clearInterval(failed);
    monitor.stop();
  }
  assert.equal(got.get(big)?.attempt, 2, 'the newer attempt wins, whatever the write order');
  assert.deepEqual([...(got.get(big)?.output ?? [])], [2]);
  // A result stored apart is fetched when it is read (executor/lazy-result.ts), not by the poll.
  const lazy = got.get(3) as CallRecord & { loadOutput?: () => Promise<Uint8Array> };
  assert.equal(lazy.output, undefined);
  assert.deepEqual(
    [...((await lazy.loadOutput?.()) ?? [])],
    [3, 3, 3],
    'the older layout reads its output from output/<call>',
  );
});
