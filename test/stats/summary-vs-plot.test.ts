/**
 * Issue 15, finding 7: `fexec.summary()` (from this process's futures) and `burst plot` (from the
 * records in storage) once disagreed about the same job (result median 465 ms vs 1 ms: the plot took
 * an IPC status batch's write time, up to a second late, as every call's result time). Both now come
 * from the same numbers in the records, through `summarizeJob`; this runs real jobs on both localhost
 * channels and compares the two, field by field, including the built `burst plot --json`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FunctionExecutor } from '../../src/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { readJobCalls, readJobInfo } from '../../src/stats/catalog.ts';
import { summarizeJob } from '../../src/stats/summary.ts';
import type { JobSummary } from '../../src/stats/types.ts';
import { flaky, sleepMs } from '../fixtures/tasks.ts';

const repo = new URL('../../', import.meta.url).pathname;

function plotJson(root: string, ref: string, dir: string): Promise<{ summary: JobSummary }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(repo, 'dist/cli/main.js'), 'plot', ref, '--dir', dir, '--json'],
      { env: { ...process.env, BURST_FS_ROOT: root } },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as { summary: JobSummary }),
    );
  });
}

for (const channel of ['ipc', 'storage'] as const) {
  test(`fexec.stats() and the summary of burst plot agree on one job (localhost ${channel} channel)`, {
    timeout: 180_000,
  }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-summary-'));
    try {
      const fexec = new FunctionExecutor({
        localhost: { channel },
        fs: { root },
        workers: 2,
        retries: 1,
        progress: false,
      });
      let mine: JobSummary | undefined;
      try {
        const futures = await fexec.map(sleepMs, [40, 80, 120, 160, 200, 240]);
        const retried = await fexec.map(flaky, [1, 2]);
        await fexec.getResult([...futures, ...retried]);
        [mine] = fexec.stats();
      } finally {
        await fexec.close(); // flushes the status batches of IPC jobs
      }
      const storage = await createStorage('fs', { root });
      const job = await readJobInfo(storage, 'burst', fexec.executorId, 'M000');
      const theirs = summarizeJob((await readJobCalls(storage, 'burst', job)).calls);
      const { cost: _cost, ...expected } = mine!;
      assert.ok(expected.result && expected.result.count === 6, 'the result stage was measured');
      assert.deepEqual(theirs, expected);
      // The printed plot summary is the same function over the same records.
      const printed = await plotJson(root, `${fexec.executorId}/M000`, join(root, 'plots'));
      assert.deepEqual(printed.summary, expected);
      // And for the job whose calls were retried: attempts agree too.
      const jobR = await readJobInfo(storage, 'burst', fexec.executorId, 'M001');
      const retriedSummary = summarizeJob((await readJobCalls(storage, 'burst', jobR)).calls);
      assert.equal(retriedSummary.attempts, 4);
      assert.equal(retriedSummary.retriedCalls, 2);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}
