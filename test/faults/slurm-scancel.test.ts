/**
 * Fault 1 of issue 8, on Slurm: array tasks cancelled with `scancel <job>_<task>` while their calls
 * run, during a 60-call map with chunksize 1 and `retries: 2`. Each cancelled task's call must be
 * reported lost (Slurm's CANCELLED state), run again, and succeed; every result is correct and none is
 * duplicated. On the real two-node cluster, with fs storage on a path every node shares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FunctionExecutor, WorkerCrashError } from '../../src/index.ts';
import { ensureSlurm, type SlurmService } from '../services.ts';
import { sleepMs } from '../fixtures/tasks.ts';
import { keys } from '../../src/job/layout.ts';

const slurm = await ensureSlurm();
const skip = 'skip' in slurm ? `Slurm cluster unavailable: ${slurm.skip}` : undefined;

const CALLS = 60;
const CANCELS = 5;

function sh(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(command, args, (err, stdout, stderr) =>
      err ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

test(`scancel of ${CANCELS} running array tasks during ${CALLS} calls with retries loses and duplicates nothing`, {
  skip,
  timeout: 180_000,
}, async () => {
  const cluster = slurm as SlurmService;
  // /var/tmp is on the disk every "node" of the test cluster sees at the same path.
  const root = await mkdtemp(join('/var/tmp', 'burst-scancel-'));
  const fexec = new FunctionExecutor({
    backend: 'slurm',
    fs: { root, shared: true },
    slurm: { partition: cluster.partition, maxConcurrency: 12 },
    retries: 2,
    progress: false,
  });
  try {
    // Distinct inputs, so a result in the wrong slot or a repeated one shows; each call sleeps ~6 s, so a
    // task caught at most 3 s into its run cannot finish its call before the scancel lands.
    const inputs = Array.from({ length: CALLS }, (_, i) => 6000 + i);
    const futures = await fexec.map(sleepMs, inputs, { chunksize: 1 });
    const name = `burst-${fexec.executorId}-${futures[0]!.jobId}`;
    // Attempt 1's status of a call (statuses are kept per attempt: status/<call>.<attempt>).
    const statusFile = (callId: number): string =>
      join(root, fexec.options.bucket, keys.status(keys.job(fexec.executorId, futures[0]!.jobId), callId, 1));

    // Cancel random tasks that are running and whose call has not written its status yet. Only tasks
    // of the map's own array job count: the retries of cancelled calls are array jobs of the same name
    // whose task 0 runs another call, and cancelling one of those (taking it for call 0) made this
    // test fail now and then under load ("call 0, whose task was cancelled, ran again (attempt 1)").
    let mapArray: string | undefined;
    const cancelled = new Set<number>();
    while (cancelled.size < CANCELS && futures.some((f) => !f.done)) {
      await new Promise((r) => setTimeout(r, 300));
      const running = (await sh('squeue', ['-h', '-n', name, '-t', 'RUNNING', '-o', '%F %K %M']))
        .trim()
        .split('\n')
        .filter(Boolean);
      const parsed = running
        .map((line) => /^(\d+) (\d+) (?:(\d+):)?(\d+)$/.exec(line.trim()))
        .filter((m): m is RegExpExecArray => m !== null);
      // No call has been cancelled (so none retried) before the first look: the oldest array is the map's.
      if (mapArray === undefined && parsed.length > 0)
        mapArray = parsed.map((m) => m[1] as string).sort((a, b) => Number(a) - Number(b))[0];
      const candidates = parsed
        .filter((m) => m[1] === mapArray)
        // Started 1-3 s ago (the worker is up, its call far from done), call not finished.
        .filter((m) => {
          const elapsed = Number(m[4]) + 60 * Number(m[3] ?? 0);
          return elapsed >= 1 && elapsed <= 3 && !cancelled.has(Number(m[2])) && !existsSync(statusFile(Number(m[2])));
        });
      const pick = candidates[Math.floor(Math.random() * candidates.length)];
      if (!pick) continue;
      await sh('scancel', [`${pick[1]}_${pick[2]}`]);
      cancelled.add(Number(pick[2])); // chunksize 1, the map's own array job: task i runs call i
    }
    assert.equal(cancelled.size, CANCELS, 'enough tasks were caught running');

    const results = await fexec.getResult(futures, { timeout: 150 });
    assert.deepEqual(results, inputs, 'every result is the right one, in its slot, once');
    for (const id of cancelled) {
      const f = futures[id]!;
      assert.ok(f.stats.attempt > 1, `call ${id}, whose task was cancelled, ran again (attempt ${f.stats.attempt})`);
      assert.ok(
        f.attempts.length >= 1 && f.attempts.every((e) => e instanceof WorkerCrashError && /CANCELLED/.test(e.message)),
        `call ${id} was retried because of the cancel: ${f.attempts.map(String).join('; ')}`,
      );
    }
    const retried = futures
      .filter((f) => f.stats.attempt > 1)
      .map((f) => f.callId)
      .sort((a, b) => a - b);
    assert.deepEqual(
      retried,
      [...cancelled].sort((a, b) => a - b),
      'only the cancelled calls ran again',
    );
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
});
