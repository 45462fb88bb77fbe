/**
 * Reading jobs back from storage: status records from per-call objects and from status batches (as
 * the localhost IPC channel persists them) through one function, the newest attempt winning; the
 * cache that re-reads only changed objects; and the catalog of executors and jobs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStorage } from '../../src/storage/index.ts';
import type { StorageDriver } from '../../src/storage/types.ts';
import { readJobStatuses, type StatusCache } from '../../src/job/reader.ts';
import { callsOf, countCalls, listExecutors, listJobs, resolveJob } from '../../src/stats/catalog.ts';
import { summarizeJob } from '../../src/stats/summary.ts';
import { statusRecord, writeManifest, writeStatuses } from '../cli/helpers.ts';

async function memoryStorage(): Promise<StorageDriver> {
  const storage = await createStorage('memory', {});
  await storage.createBucket('burst');
  return storage;
}

/** Counts the GETs a driver serves. */
function countingGets(storage: StorageDriver): { storage: StorageDriver; gets: () => number } {
  let gets = 0;
  const wrapped = Object.create(storage) as StorageDriver;
  wrapped.get = (...args: Parameters<StorageDriver['get']>) => {
    gets++;
    return storage.get(...args);
  };
  return { storage: wrapped, gets: () => gets };
}

describe('readJobStatuses', () => {
  it('reads per-call status objects and status batches through one function', async () => {
    const storage = await memoryStorage();
    const jobKey = 'burst/jobs/exec-a/M000';
    const t0 = 1_700_000_000_000;
    await writeStatuses(storage, jobKey, [
      statusRecord(0, t0, { logs: 'zero\n' }),
      statusRecord(3, t0, { fail: 'boom' }),
    ]);
    await storage.put(
      'burst',
      `${jobKey}/status-batches/00000`,
      JSON.stringify([statusRecord(1, t0), statusRecord(2, t0, { logs: 'two\n' })]),
    );
    await storage.put('burst', `${jobKey}/status-batches/00001`, JSON.stringify([statusRecord(4, t0)]));
    const records = await readJobStatuses(storage, 'burst', jobKey);
    assert.deepEqual(
      records.map((r) => [r.callId, r.ok, r.source]),
      [
        [0, true, 'status'],
        [1, true, 'batch'],
        [2, true, 'batch'],
        [3, false, 'status'],
        [4, true, 'batch'],
      ],
    );
    assert.equal(records[0]?.logs, 'zero\n');
    assert.equal(records[2]?.logs, 'two\n');
    assert.equal(records[3]?.error?.message, 'boom');
    assert.equal(records[1]?.stats.hostname, 'node-a');
    assert.deepEqual(await readJobStatuses(storage, 'burst', 'burst/jobs/exec-a/M999'), []);
  });

  it('keeps the newest attempt of a call found in several places, and skips what is not a record', async () => {
    const storage = await memoryStorage();
    const jobKey = 'burst/jobs/exec-b/M000';
    const t0 = 1_700_000_000_000;
    await storage.put(
      'burst',
      `${jobKey}/status-batches/00000`,
      JSON.stringify([statusRecord(0, t0, { fail: 'first try', attempt: 1 }), statusRecord(1, t0, { attempt: 2 })]),
    );
    await writeStatuses(storage, jobKey, [
      statusRecord(0, t0, { attempt: 2, logs: 'second try\n' }),
      statusRecord(1, t0, { fail: 'stale', attempt: 1 }),
    ]);
    await storage.put('burst', `${jobKey}/status/00007`, 'not json');
    await storage.put('burst', `${jobKey}/status-batches/00001`, JSON.stringify([{ nonsense: true }, 42]));
    const records = await readJobStatuses(storage, 'burst', jobKey);
    assert.deepEqual(
      records.map((r) => [r.callId, r.attempt, r.ok, r.source]),
      [
        [0, 2, true, 'status'],
        [1, 2, true, 'batch'],
      ],
    );
  });

  it('re-reads only objects that changed when given the same cache', async () => {
    const base = await memoryStorage();
    const { storage, gets } = countingGets(base);
    const jobKey = 'burst/jobs/exec-c/M000';
    const t0 = 1_700_000_000_000;
    await writeStatuses(
      base,
      jobKey,
      [0, 1, 2].map((i) => statusRecord(i, t0)),
    );
    const cache: StatusCache = new Map();
    assert.equal((await readJobStatuses(storage, 'burst', jobKey, cache)).length, 3);
    assert.equal(gets(), 3);
    await writeStatuses(base, jobKey, [statusRecord(3, t0)]);
    await base.put('burst', `${jobKey}/status-batches/00000`, JSON.stringify([statusRecord(4, t0)]));
    assert.equal((await readJobStatuses(storage, 'burst', jobKey, cache)).length, 5);
    assert.equal(gets(), 5);
    await base.delete('burst', [`${jobKey}/status/00000`]);
    assert.deepEqual(
      (await readJobStatuses(storage, 'burst', jobKey, cache)).map((r) => r.callId),
      [1, 2, 3, 4],
    );
    assert.equal(gets(), 5);
  });
});

describe('the catalog of jobs', () => {
  it('lists executors newest first and their jobs with manifests, counts and calls', async () => {
    const storage = await memoryStorage();
    const t0 = 1_700_000_000_000;
    const older = await writeManifest(storage, 'mw000000-aaaaaa', 'M000', 4, t0);
    await writeStatuses(storage, older, [statusRecord(0, t0), statusRecord(2, t0, { fail: 'x' })]);
    await writeManifest(storage, 'mw000000-aaaaaa', 'M010', 1, t0 + 5);
    await writeManifest(storage, 'mw000000-aaaaaa', 'R002', 1, t0 + 2);
    await storage.put(
      'burst',
      'burst/jobs/mwx00000-bbbbbb/M000/status-batches/00000',
      JSON.stringify([statusRecord(0, t0), statusRecord(1, t0)]),
    );
    assert.deepEqual(await listExecutors(storage, 'burst'), ['mwx00000-bbbbbb', 'mw000000-aaaaaa']);
    const jobs = await listJobs(storage, 'burst');
    assert.deepEqual(
      jobs.map((j) => `${j.executorId}/${j.jobId}:${j.manifest?.callCount ?? '-'}`),
      ['mwx00000-bbbbbb/M000:-', 'mw000000-aaaaaa/M000:4', 'mw000000-aaaaaa/R002:1', 'mw000000-aaaaaa/M010:1'],
    );
    const job = jobs[1];
    assert.ok(job);
    const statuses = await readJobStatuses(storage, 'burst', job.jobKey);
    assert.deepEqual(countCalls(job, statuses), { calls: 4, success: 1, error: 1, pending: 2, cached: 0 });
    const calls = callsOf(job, statuses);
    assert.deepEqual(
      calls.map((c) => c.status),
      ['success', 'invoked', 'error', 'invoked'],
    );
    assert.equal(calls[1]?.stats.submitted, t0);
    assert.equal(calls[2]?.error?.message, 'x');
    assert.equal(summarizeJob(calls).states.invoked, 2);
    assert.deepEqual(await listExecutors(await createStorage('memory', {}), 'burst'), []);
  });

  it('resolves what users type to a job, or says what exists', async () => {
    const storage = await memoryStorage();
    await writeManifest(storage, 'mw000000-aaaaaa', 'M000', 1, 1);
    await writeManifest(storage, 'mw000001-bbbbbb', 'M000', 1, 3);
    await writeManifest(storage, 'mw000000-aaaaaa', 'M001', 1, 2);
    assert.equal(
      (await resolveJob(storage, 'burst', 'mw000000-aaaaaa/M000')).jobKey,
      'burst/jobs/mw000000-aaaaaa/M000',
    );
    assert.equal((await resolveJob(storage, 'burst', 'burst/jobs/mw000000-aaaaaa/M001')).jobId, 'M001');
    assert.equal((await resolveJob(storage, 'burst', 'M000')).executorId, 'mw000001-bbbbbb');
    assert.equal((await resolveJob(storage, 'burst', 'M001')).executorId, 'mw000000-aaaaaa');
    assert.equal((await resolveJob(storage, 'burst', 'latest')).executorId, 'mw000001-bbbbbb');
    await assert.rejects(
      resolveJob(storage, 'burst', 'mw000000-aaaaaa/M009'),
      /no job "M009" in executor "mw000000-aaaaaa"; its jobs: M000, M001/,
    );
    await assert.rejects(
      resolveJob(storage, 'burst', 'M009'),
      (err: Error & { code?: string }) =>
        err.code === 'NO_SUCH_JOB' && /no job "M009" in bucket "burst"/.test(err.message),
    );
    await assert.rejects(resolveJob(storage, 'burst', 'a/b/c'), /is not a job reference/);
  });
});
