/**
 * Issue 15, finding 2: status and output are written per attempt, and every reader takes the newest
 * attempt. A retry succeeds (attempt 2), then a stale worker of attempt 1 writes its failure late,
 * for real (the worker handler over the stored job): the retry's status still wins for the monitor
 * (through attach), the job reader, `burst jobs`/`logs` counts and the dashboard.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FunctionExecutor } from '../../src/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { readJobStatuses } from '../../src/job/reader.ts';
import { countCalls, readJobInfo } from '../../src/stats/catalog.ts';
import { DashboardData } from '../../src/dashboard/api.ts';
import { runCalls } from '../../src/worker/handler.ts';
import { keys } from '../../src/job/layout.ts';
import { flaky } from '../fixtures/tasks.ts';

test("a stale attempt that writes its status after the retry does not replace the retry's", {
  timeout: 120_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-attempts-'));
  try {
    const fexec = new FunctionExecutor({
      localhost: { channel: 'storage' },
      fs: { root },
      workers: 1,
      retries: 1,
      progress: false,
    });
    let executorId: string;
    try {
      executorId = fexec.executorId;
      const [f] = await fexec.map(flaky, [7]);
      assert.equal(await f!.result({ timeout: 60 }), 70);
      assert.equal(f!.stats.attempt, 2, 'the first attempt failed and the retry succeeded');
    } finally {
      await fexec.close();
    }
    const storage = await createStorage('fs', { root });
    const jobKey = keys.job(executorId, 'M000');
    // The late write: attempt 1's worker runs the call again (it fails: attempt 1 always does) and writes its status.
    const late = await runCalls({ storage, bucket: 'burst', jobKey, callIds: [0], attempt: 1 });
    assert.deepEqual(late, { succeeded: 0, failed: 1 }, 'the stale attempt really ran and wrote a failure');
    const names = (await readdir(join(root, 'burst', jobKey, 'status'))).sort();
    assert.deepEqual(names, ['00000.1', '00000.2'], 'one status object per attempt, both kept');

    const [status] = await readJobStatuses(storage, 'burst', jobKey);
    assert.equal(status?.attempt, 2);
    assert.equal(status?.ok, true);
    const job = await readJobInfo(storage, 'burst', executorId, 'M000');
    assert.deepEqual(countCalls(job, await readJobStatuses(storage, 'burst', jobKey)), {
      calls: 1,
      success: 1,
      error: 0,
      pending: 0,
      cached: 0,
    });
    const detail = await new DashboardData(storage, 'burst').job(`${executorId}/M000`);
    assert.equal(detail.calls[0]?.state, 'success');
    assert.equal(detail.calls[0]?.attempt, 2);
    assert.equal(detail.failures.length, 0);

    // Another process attaches: the monitor settles the call from attempt 2, not the later-written attempt 1.
    const attached = await FunctionExecutor.attach(executorId, { fs: { root }, progress: false });
    try {
      assert.deepEqual(await attached.getResult(undefined, { timeout: 30 }), [70]);
    } finally {
      await attached.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
