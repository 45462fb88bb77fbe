/**
 * The status batches of IPC jobs (src/monitor/status-batches.ts): records added faster than they
 * can be written are each stored once, in several batches, and read back as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStorage } from '../../src/storage/index.ts';
import { StatusBatchWriter } from '../../src/monitor/status-batches.ts';
import { batchPrefix, readJobStatuses } from '../../src/job/reader.ts';

test('120,000 plain records added at once: every one stored once and read back as written', async () => {
  const storage = await createStorage('memory', {});
  await storage.createBucket('burst');
  const jobKey = 'burst/jobs/exec-s/M000';
  const writer = new StatusBatchWriter(storage, 'burst', jobKey);
  const worker = { hostname: 'h', pid: 7, threadId: 1, workerStart: 1_700_000_000_000 };
  const t0 = 1_700_000_000_100;
  const n = 120_000;
  for (let i = 0; i < n; i++) writer.addPlain(i, 1, worker, t0 + i, t0 + i + 2, 8, t0 + i + 3);
  await writer.flush();
  assert.equal(writer.error, undefined);
  let batches = 0;
  for await (const o of storage.list('burst', batchPrefix(jobKey))) if ('key' in o) batches++;
  assert.ok(batches >= 3, `at least three batches (${batches})`);
  const statuses = await readJobStatuses(storage, 'burst', jobKey);
  assert.equal(statuses.length, n);
  statuses.forEach((s, i) => {
    assert.equal(s.callId, i);
    assert.equal(s.stats.fnStart, t0 + i);
    assert.equal(s.stats.fnEnd, t0 + i + 2);
  });
});
