/**
 * The result cache (`cache: true`) and speculative backups (`speculative`) against one backend: the
 * same tests run on localhost (both channels), Slurm and the HTTP workers. Executions are counted
 * from markers the tasks write in storage (test/fixtures/cache-tasks.ts), never from results.
 */
import { randomUUID } from 'node:crypto';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionExecutor, Storage, type ExecutorOptions } from '../../src/index.ts';
import { echoEnv, echoEnvV2, failWhileFlagged, straggle } from '../fixtures/cache-tasks.ts';

/** Options of {@link cacheSuite}. */
export interface CacheSuiteOptions {
  options: () => ExecutorOptions | Promise<ExecutorOptions>;
  skip?: () => Promise<string | undefined>;
  /** Milliseconds of an ordinary call and of a straggler's first attempt (slower backends need more). */
  timing?: { ms: number; slowMs: number };
  /** Run every cache test (the cache is client-side: one channel needs them all); else the lean one. @default false */
  full?: boolean;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function cacheSuite(name: string, suite: CacheSuiteOptions): void {
  describe(`cache and speculative backups: ${name}`, () => {
    let base: ExecutorOptions;
    let skipReason: string | undefined;
    let store: Storage;
    let bucket: string;
    before(async () => {
      skipReason = await suite.skip?.();
      if (skipReason) return;
      base = await suite.options();
      bucket = base.bucket ?? 'burst';
      const driver = typeof base.storage === 'string' ? base.storage : 'fs';
      store = new Storage({ driver, options: { ...((base as Record<string, unknown>)[driver] as object) } });
    });
    after(async () => {
      await store?.close();
    });
    const it = (title: string, fn: () => Promise<void>): void => {
      test(title, { timeout: 300_000 }, async (t) => {
        if (skipReason) return t.skip(skipReason);
        await fn();
      });
    };
    /** Markers under `runs` as `callId/attempt/what`, sorted. */
    const markers = async (runs: string, what?: string): Promise<string[]> =>
      (await store.listKeys(bucket, `${runs}/`))
        .map((k) =>
          k
            .slice(runs.length + 1)
            .split('-')
            .slice(0, 3)
            .join('/'),
        )
        .filter((m) => what === undefined || m.endsWith(`/${what}`))
        .sort();
    const withExecutor = async (extra: ExecutorOptions, fn: (f: FunctionExecutor) => Promise<void>) => {
      const fexec = new FunctionExecutor({ ...base, ...extra });
      try {
        await fn(fexec);
      } finally {
        await fexec.close();
      }
    };

    const full = (title: string, fn: () => Promise<void>): void => {
      if (suite.full) it(title, fn);
    };

    it('cache: a second map reuses the results of identical calls and runs only the new one', async () => {
      const runs = `cache-lean-${randomUUID()}`;
      const extraArgs = { runs };
      await withExecutor({ cache: true }, async (fexec) => {
        const first = await fexec.getResult(await fexec.map(echoEnv, [1, 2], { extraArgs }));
        const futures = await fexec.map(echoEnv, [1, 2, 3], { extraArgs });
        assert.deepEqual((await fexec.getResult(futures)).slice(0, 2), first);
        assert.deepEqual(
          Array.from(futures, (f) => f.stats.cached ?? false),
          [true, true, false],
        );
        assert.equal(fexec.stats()[1]?.cachedCalls, 2);
      });
      assert.deepEqual(await markers(runs, 'start'), ['0/1/start', '1/1/start', '2/1/start']);
    });

    full('cache: an identical map runs nothing again; input, env, extraArgs and code changes miss', async () => {
      const runs = `cache-${randomUUID()}`;
      const extraArgs = { runs, tag: 'a' };
      let first: unknown[] = [];
      await withExecutor({ cache: true }, async (fexec) => {
        first = await fexec.getResult(await fexec.map(echoEnv, [1, 2, 3], { extraArgs }));
      });
      assert.equal((await markers(runs, 'start')).length, 3);
      // Another executor (another process would do the same): every call hits, none runs.
      await withExecutor({}, async (fexec) => {
        const futures = await fexec.map(echoEnv, [1, 2, 3], { extraArgs, cache: true });
        assert.deepEqual(await fexec.getResult(futures), first);
        assert.deepEqual(
          Array.from(futures, (f) => f.stats.cached),
          [true, true, true],
        );
        const [summary] = fexec.stats();
        assert.equal(summary?.cachedCalls, 3);
        assert.equal(summary?.states.success, 3);
      });
      assert.equal((await markers(runs, 'start')).length, 3, 'the second map ran no call');
      await withExecutor({ cache: true }, async (fexec) => {
        // Another environment, other extraArgs, other code: each runs every call again.
        const env = await fexec.getResult(
          await fexec.map(echoEnv, [1, 2, 3], { extraArgs, env: { CACHE_TEST_VAR: 'x' } }),
        );
        assert.deepEqual(
          env.map((r) => (r as { env: string }).env),
          ['x', 'x', 'x'],
        );
        assert.equal((await markers(runs, 'start')).length, 6);
        await fexec.getResult(await fexec.map(echoEnv, [1, 2, 3], { extraArgs: { runs, tag: 'b' } }));
        assert.equal((await markers(runs, 'start')).length, 9);
        const v2 = await fexec.getResult(await fexec.map(echoEnvV2, [1, 2, 3], { extraArgs }));
        assert.deepEqual(
          v2.map((r) => (r as { v: number }).v),
          [2, 2, 2],
        );
        assert.equal((await markers(runs, 'start')).length, 12);
      });
    });

    full('cache: a failed call is never cached, and a tampered entry is a miss that runs the call', async () => {
      const runs = `cache-fail-${randomUUID()}`;
      await store.put(bucket, `${runs}.fail`, 'on');
      await withExecutor({ cache: true }, async (fexec) => {
        const failed = await fexec.getResult(await fexec.map(failWhileFlagged, [1, 2], { extraArgs: { runs } }), {
          throwOnError: false,
        });
        assert.ok(failed.every((r) => r instanceof Error));
        await store.delete(bucket, [`${runs}.fail`]);
        assert.deepEqual(
          await fexec.getResult(await fexec.map(failWhileFlagged, [1, 2], { extraArgs: { runs } })),
          [2, 3],
        );
        assert.equal((await markers(runs, 'start')).length, 4, 'the failed calls ran again');
      });
      // The attack: whoever can write the bucket moves one call's entry to the other's key and cuts
      // the other's result. The client checks each entry against its key, size and hash: both miss.
      await withExecutor({ cache: true }, async (fexec) => {
        const futures = await fexec.map(failWhileFlagged, [1, 2], { extraArgs: { runs } });
        assert.deepEqual(
          Array.from(futures, (f) => f.stats.cached),
          [true, true],
          'both calls hit before the tampering',
        );
        const job = futures[0] as (typeof futures)[number];
        const manifest = JSON.parse(
          Buffer.from(await store.get(bucket, `burst/jobs/${job.executorId}/${job.jobId}/job.json`)).toString(),
        ) as { functionHash: string };
        const entries = await store.listKeys(bucket, `burst/cache/${manifest.functionHash}/`);
        assert.ok(entries.length >= 2);
        const [a, b] = entries as [string, string];
        const bytesA = Buffer.from(await store.get(bucket, a));
        const bytesB = Buffer.from(await store.get(bucket, b));
        await store.put(bucket, a, bytesB); // a planted entry: valid, but for another key
        await store.put(bucket, b, bytesB.subarray(0, bytesB.length - 1)); // a cut one
        assert.notDeepEqual(bytesA, bytesB);
      });
      const before = (await markers(runs, 'start')).length;
      await withExecutor({ cache: true }, async (fexec) => {
        const futures = await fexec.map(failWhileFlagged, [1, 2], { extraArgs: { runs } });
        assert.deepEqual(await fexec.getResult(futures), [2, 3], 'the right results, not the tampered ones');
        assert.deepEqual(
          Array.from(futures, (f) => f.stats.cached ?? false),
          [false, false],
        );
      });
      assert.equal((await markers(runs, 'start')).length, before + 2, 'the tampered entries were run again');
    });

    it('speculative: a straggler gets a backup, the first result wins, the loser is cancelled, counted once', async () => {
      const { ms, slowMs } = suite.timing ?? { ms: 300, slowMs: 150_000 };
      const runs = `spec-${randomUUID()}`;
      const n = 8;
      const inputs = Array.from({ length: n }, (_, i) => i);
      await withExecutor({}, async (fexec) => {
        const futures = await fexec.map(straggle, inputs, {
          extraArgs: { runs, slow: [5], slowMs, ms },
          // One backup at a time: a call that has ended but not reported yet is no straggler, and a
          // backup given to an ordinary call slowed by load frees the budget once that call settles.
          speculative: { factor: 3, percentile: 0.5, minSeconds: 0.2, maxBackups: 1 },
        });
        const results = await fexec.getResult(futures);
        assert.deepEqual(
          results,
          inputs.map((x) => x * 2),
        );
        const straggler = futures[5];
        assert.equal(straggler?.stats.backup, 'won');
        const [summary] = fexec.stats();
        assert.equal(summary?.calls, n, 'each call counted once');
        assert.equal(summary?.states.success, n);
        assert.ok((summary?.backups ?? 0) >= 1 && (summary?.backupsWon ?? 0) >= 1);
        const starts = await markers(runs, 'start');
        assert.ok(starts.includes('5/1/start') && starts.includes('5/2/start'), 'both copies of call 5 ran');
        // Under load an ordinary call can take 3× the median and get a backup too (it frees the budget
        // once it settles): each other call ran once, or at most twice when its future says it had a
        // backup (a copy cancelled before it started never runs).
        for (const f of futures) {
          if (f.callId === 5) continue;
          const ran = starts.filter((m) => m.startsWith(`${f.callId}/`)).length;
          const most = f.stats.backup ? 2 : 1;
          assert.ok(ran >= 1 && ran <= most, `call ${f.callId} ran ${ran} times (backup: ${f.stats.backup})`);
        }
        // The loser sleeps slowMs (far longer than this test waits): it must have been stopped, either
        // told (its abort signal fired: an `aborted` marker) or killed (its process is gone).
        const [loser] = await store.listKeys(bucket, `${runs}/5-1-start-`);
        const pid = Number(loser?.slice(`${runs}/5-1-start-`.length).split('-')[1]);
        assert.ok(pid > 0);
        const deadline = Date.now() + 20_000;
        let stopped = false;
        while (!stopped && Date.now() < deadline) {
          stopped = (await markers(runs, 'aborted')).includes('5/1/aborted') || !alive(pid);
          if (!stopped) await new Promise((r) => setTimeout(r, 250));
        }
        assert.ok(stopped, `the loser (call 5, attempt 1, pid ${pid}) was cancelled`);
        const done = await markers(runs, 'done');
        assert.ok(!done.includes('5/1/done'), 'the loser never finished');
        assert.ok(done.includes('5/2/done'));
      });
    });
  });
}
