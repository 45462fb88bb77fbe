/**
 * `burst clean` and a job another process is running (issue 14): a real job on the localhost backend's
 * storage channel (each invocation a `burst worker run` process reading the job from storage), and
 * `burst clean` run as a separate process while its calls wait or run. Without --force the job is
 * kept and the command says which and why; with --force it is deleted, and the calls that had not
 * read their job yet fail with JobNotFoundError (code JOB_DELETED, naming the job), not RemoteError.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FunctionExecutor, JobNotFoundError, RemoteError } from '../../src/index.ts';
import { keys } from '../../src/job/layout.ts';
import { slowly } from './fixtures/tasks.ts';
import { burst, fails, ok, sandbox, sandboxStorage, type Sandbox } from './helpers.ts';

let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

describe('burst clean with a running job', () => {
  it('refuses a job with pending calls; --force deletes it and its calls fail with JobNotFoundError', async () => {
    const storage = await sandboxStorage(box);
    // One worker process at a time, 4 s per call: when clean runs, call 0 is running and later calls wait.
    const fexec = new FunctionExecutor({
      fs: { root: box.root },
      localhost: { channel: 'storage' },
      workers: 1,
      progress: false,
    });
    try {
      const futures = await fexec.map(slowly, [4000, 4000, 4000, 4000, 4000]);
      const job = `${fexec.executorId}/${futures[0]?.jobId}`;
      const manifest = keys.manifest(keys.job(fexec.executorId, futures[0]?.jobId as string));
      assert.ok(await storage.exists('burst', manifest));

      const refused = fails(await burst(['clean'], box), job, 'still pending or running', '--force');
      assert.equal(refused.code, 1);
      assert.ok(await storage.exists('burst', manifest), 'burst clean without --force must keep the running job');
      fails(await burst(['clean', job], box), job, 'still pending or running');
      assert.match(fails(await burst(['clean', '--all', '--json'], box)).stdout, new RegExp(`"job": "${job}"`));
      assert.ok(await storage.exists('burst', manifest), 'burst clean --all must keep the running job');

      const forced = ok(await burst(['clean', '--force'], box));
      assert.match(forced.stdout, /^Removed \d+ objects?: data of 1 job/);
      assert.equal(await storage.exists('burst', manifest), false);

      const results = await fexec.getResult(futures, { throwOnError: false, timeout: 90 });
      const deleted = results.filter((r): r is JobNotFoundError => r instanceof JobNotFoundError);
      assert.ok(
        deleted.length >= 2,
        `calls not started when the job was deleted fail with JobNotFoundError; got ${results.map((r) => (r instanceof Error ? `${r.name}: ${r.message}` : String(r))).join(' | ')}`,
      );
      for (const e of deleted) {
        assert.equal(e.code, 'JOB_DELETED');
        assert.ok(e.message.includes(job), e.message);
      }
      assert.ok(!results.some((r) => r instanceof RemoteError), 'no call may look like the function threw');
    } finally {
      await fexec.close();
    }
  });
});
