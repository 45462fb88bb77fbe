/**
 * Issue 15: `maxFailures` stops a job early. Once that many calls have failed (a count or a fraction
 * of the job's calls), the calls not finished settle with MaxFailuresError and those not started
 * never run (counted from a marker file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, ConfigError, FunctionExecutor, MaxFailuresError, RemoteError } from '../../src/index.ts';
import { failNegative } from './fixtures/exec-tasks.ts';
import { executions, pause } from './helpers.ts';

for (const [maxFailures, stopsAt] of [
  [3, 3],
  [0.05, 3],
] as const) {
  test(`maxFailures: ${maxFailures} stops a 60-call job after ${stopsAt} failures`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-maxfail-'));
    const marker = join(root, 'marker');
    const fexec = new FunctionExecutor({ workers: 1, fs: { root }, progress: false });
    try {
      // Calls 0-9 fail; one worker runs them in order, so the job stops long before call 59.
      const inputs = Array.from({ length: 60 }, (_, i) => (i < 10 ? -1 : i));
      const futures = await fexec.map(failNegative, inputs, { extraArgs: { marker }, maxFailures, chunksize: 1 });
      const results = await futures.getResult({ throwOnError: false });
      const failed = results.filter((r) => r instanceof RemoteError);
      const stopped = results.filter((r) => r instanceof MaxFailuresError) as MaxFailuresError[];
      assert.equal(failed.length, stopsAt, 'calls that failed on their own');
      assert.equal(failed.length + stopped.length, 60, 'every other call was stopped');
      for (const e of stopped) {
        assert.ok(e instanceof CancelledError);
        assert.equal(e.code, 'MAX_FAILURES');
        assert.equal(e.maxFailures, stopsAt);
        assert.match(e.message, new RegExp(`stopped after ${stopsAt} failed calls \\(maxFailures: ${maxFailures}`));
      }
      await pause(300);
      const ran = executions(marker).length;
      assert.ok(ran <= stopsAt + 2, `${ran} calls ran; the job should have stopped after ${stopsAt}`);
      await assert.rejects(futures.getResult(), RemoteError, 'getResult throws the first real failure');
    } finally {
      await fexec.close();
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('maxFailures must be a positive count or a fraction', async () => {
  const fexec = new FunctionExecutor({ progress: false });
  try {
    for (const bad of [0, -1, 1.5, 'x']) {
      await assert.rejects(
        fexec.map(failNegative, [1], { maxFailures: bad as number }),
        (err: unknown) => err instanceof ConfigError && /maxFailures must be a positive integer/.test(err.message),
      );
    }
  } finally {
    await fexec.close();
  }
});
