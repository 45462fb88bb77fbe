/**
 * The storage monitor lists at most one page (1,000 keys) per poll and goes on from where it stopped,
 * so a poll's cost does not grow with the job, and yet every status is found: also those past the
 * first page while the lowest call is still running. Real memory storage, whose listing is wrapped to
 * count the keys each poll reads; the compute backend is a fake with no lost-call check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory } from '../../src/storage/index.ts';
import { StorageMonitor } from '../../src/monitor/storage-monitor.ts';
import type { ComputeBackend, JobDescriptor } from '../../src/backends/types.ts';
import type { ListEntry, ListOptions, StorageDriver } from '../../src/storage/types.ts';
import { jobKey, keys } from '../../src/job/layout.ts';
import { encodeStatus } from '../../src/job/status.ts';

const stats = { workerStart: 1, fnStart: 2, fnEnd: 3, cold: true, bytesIn: 0, bytesOut: 0, hostname: 'h', pid: 1 };

test('a poll reads at most 1,000 status keys, and statuses past the first page settle while call 0 runs (fake backend)', async () => {
  const inner = memory();
  const read: number[] = [];
  const storage: StorageDriver = Object.create(inner, {
    list: {
      value: (bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry> => ({
        async *[Symbol.asyncIterator]() {
          const at = read.push(0) - 1;
          for await (const e of inner.list(bucket, prefix, options)) {
            read[at] = (read[at] ?? 0) + 1;
            yield e;
          }
        },
      }),
    },
  });
  const bucket = 'monitor-pages';
  await storage.createBucket(bucket);
  const key = jobKey('E7', 'M000');
  const calls = 2500;
  const job = {
    executorId: 'E7',
    jobId: 'M000',
    bucket,
    jobKey: key,
    storage: storage.config,
    callCount: calls,
  } as JobDescriptor;
  // Every call but call 0 has finished.
  for (let id = 1; id < calls; id++)
    await storage.put(
      bucket,
      keys.status(key, id, 1),
      encodeStatus({ callId: id, ok: true, attempt: 1, output: new Uint8Array([id % 256]), stats }, 1),
    );
  const monitor = new StorageMonitor(storage, { name: 'fake' } as unknown as ComputeBackend, { min: 2, max: 10 });
  const settled = new Set<number>();
  let all: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    all = resolve;
  });
  monitor.expect(
    job,
    Array.from({ length: calls }, (_, i) => i),
    1,
    (r) => {
      settled.add(r.callId);
      if (settled.size === calls) all();
    },
  );
  try {
    while (settled.size < calls - 1) await new Promise((r) => setTimeout(r, 10));
    assert.equal(settled.has(0), false);
    // Now call 0 ends too.
    await storage.put(bucket, keys.status(key, 0, 1), encodeStatus({ callId: 0, ok: true, attempt: 1, stats }, 2));
    await done;
  } finally {
    monitor.stop();
  }
  assert.equal(settled.size, calls);
  assert.ok(read.length >= 3, `${read.length} polls`);
  assert.ok(Math.max(...read) <= 1000, `a poll read ${Math.max(...read)} keys`);
  assert.equal(monitor.requests.get, calls);
});
