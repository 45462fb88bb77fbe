/**
 * The shared backend suite: every compute backend runs it against real workers. A new backend is a
 * new file plus one call of `backendSuite`.
 */
import { randomUUID } from 'node:crypto';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  FunctionExecutor,
  RemoteError,
  TimeoutError,
  WorkerCrashError,
  OutOfMemoryError,
  SerializationError,
  CancelledError,
  Storage,
  type ExecutorOptions,
  type Future,
} from '../../src/index.ts';
import { addSeven, misbehave, describeCall, roundTripStorage, sum, sleepMs, type Act } from '../fixtures/tasks.ts';
import { addSevenCounted, echoCounted, flakyCounted, gated, joinInOrder } from '../fixtures/tasks.ts';

/** Options of {@link backendSuite}. */
export interface SuiteOptions {
  /** Executor options that select the backend and storage under test. */
  options: () => ExecutorOptions | Promise<ExecutorOptions>;
  /** Called once after the suite (e.g. to remove a temp folder). */
  cleanup?: () => Promise<void>;
  /** Skip the whole suite with this reason. */
  skip?: () => Promise<string | undefined>;
  /** Calls run in worker threads of the client (the localhost default), not in other processes. */
  sameProcess?: boolean;
}

export function backendSuite(name: string, suite: SuiteOptions): void {
  describe(`backend suite: ${name}`, () => {
    let fexec: FunctionExecutor;
    let base: ExecutorOptions;
    let skipReason: string | undefined;
    /** The executor's storage as the test sees it: gates to open, execution markers to count. */
    let store: Storage;

    before(async () => {
      skipReason = await suite.skip?.();
      if (skipReason) return;
      base = await suite.options();
      fexec = new FunctionExecutor(base);
      const driver = typeof base.storage === 'string' ? base.storage : 'fs';
      store = new Storage({ driver, options: { ...((base as Record<string, unknown>)[driver] as object) } });
    });
    after(async () => {
      await fexec?.close();
      await store?.close();
      await suite.cleanup?.();
    });
    /** A fresh key prefix in the executor's bucket. */
    const fresh = (what: string): string => `suite-${what}/${randomUUID()}`;
    /** Executions recorded by the counted tasks under `runs`, as sorted `callId/attempt` strings. */
    const executions = async (runs: string): Promise<string[]> => {
      const keys = await store.listKeys(fexec.options.bucket, `${runs}/`);
      return keys
        .map((k) =>
          k
            .slice(runs.length + 1)
            .split('-')
            .slice(0, 2)
            .join('/'),
        )
        .sort();
    };
    /** Opens the gates of {@link gated} calls: each one returns once its key exists. */
    const open = async (gates: string, ...names: string[]): Promise<void> => {
      for (const name of names) await store.put(fexec.options.bucket, `${gates}/${name}`, 'open');
    };
    const ids = (futures: readonly Future<unknown>[]): number[] => Array.from(futures, (f) => f.callId);
    const it = (title: string, fn: () => Promise<void>): void => {
      // A bound per test: a regression that hangs fails here instead of stalling the whole run.
      test(title, { timeout: 180_000 }, async (t) => {
        if (skipReason) return t.skip(skipReason);
        await fn();
      });
    };

    it('maps a module function over inputs, results in input order, each call run once', async () => {
      const runs = fresh('runs');
      const futures = await fexec.map(addSevenCounted, [1, 2, 3, 4], { extraArgs: { runs } });
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10, 11]);
      assert.deepEqual(
        await executions(runs),
        ['0/1', '1/1', '2/1', '3/1'],
        'one execution per call, counted in storage',
      );
      for (const f of futures) {
        assert.equal(f.status, 'success');
        assert.equal(f.stats.attempt, 1);
        assert.ok((f.stats.fnStart ?? 0) >= f.stats.submitted, 'the call started after it was submitted');
        assert.ok((f.stats.resultReceived ?? 0) >= (f.stats.fnEnd ?? Infinity));
        assert.equal(typeof f.stats.cold, 'boolean');
        if (suite.sameProcess) assert.equal(f.stats.pid, process.pid, 'ran in a worker thread of this process');
        else assert.ok((f.stats.pid ?? 0) > 0 && f.stats.pid !== process.pid, 'ran in another process');
      }
    });

    it('ships an inline arrow function', async () => {
      assert.deepEqual(await fexec.getResult(await fexec.map((x: number) => x * 2, [5, 6])), [10, 12]);
    });

    it('accepts iterables and async iterables as inputs', async () => {
      function* gen(): Generator<number> {
        yield 1;
        yield 2;
      }
      async function* agen(): AsyncGenerator<number> {
        yield 3;
        yield 4;
      }
      assert.deepEqual(await fexec.getResult(await fexec.map(addSeven, gen())), [8, 9]);
      assert.deepEqual(await fexec.getResult(await fexec.map(addSeven, agen())), [10, 11]);
      assert.deepEqual(await fexec.getResult(await fexec.map(addSeven, [])), []);
    });

    it('carries structured-clone values both ways', async () => {
      const value = {
        m: new Map([[1n, new Date(0)]]),
        s: new Set(['a']),
        b: Buffer.from('xyz'),
        r: /x+/g,
        t: new Int16Array([1, -1]),
      };
      const [back] = (await fexec.getResult(await fexec.map((v: typeof value) => v, [value]))) as [typeof value];
      assert.deepEqual(back.m, value.m);
      assert.deepEqual(back.s, value.s);
      assert.ok(Buffer.isBuffer(back.b) && back.b.toString() === 'xyz');
      assert.equal(back.r.source, 'x+');
      assert.deepEqual([...back.t], [1, -1]);
    });

    it('gives the function its context, extra args and env', async () => {
      const futures = await fexec.map(describeCall, ['a', 'b'], {
        extraArgs: { factor: 3 },
        env: { BURST_TEST_VAR: 'set' },
      });
      const [a, b] = await fexec.getResult(futures);
      assert.deepEqual(a, {
        x: 'a',
        callId: 0,
        jobId: futures[0]?.jobId,
        executorId: fexec.executorId,
        attempt: 1,
        args: { factor: 3 },
        env: 'set',
        aborted: false,
      });
      assert.equal(b?.callId, 1);
    });

    it('callAsync runs one call', async () => {
      const future = await fexec.callAsync(addSeven, 35);
      assert.equal(await fexec.getResult(future), 42);
      assert.equal(await future.result(), 42);
    });

    it("brings back the user's exception and keeps the other results", async () => {
      const acts: Act[] = [{ ok: 1 }, 'throw', { ok: 3 }, 'throw42'];
      const futures = await fexec.map(misbehave, acts);
      const results = await fexec.getResult(futures, { throwOnError: false });
      assert.equal(results[0], 2);
      assert.equal(results[2], 6);
      const err = results[1];
      assert.ok(err instanceof RemoteError, `got ${String(err)}`);
      assert.equal(err.remoteName, 'QuotaError');
      assert.equal(err.properties.code, 'E_QUOTA');
      assert.equal(err.callId, 1);
      assert.equal(err.jobId, futures[1]?.jobId);
      assert.match(err.message, /QuotaError: quota exceeded for tenant 9/);
      assert.match(err.remoteStack ?? '', /misbehave/);
      const thrown = results[3];
      assert.ok(thrown instanceof RemoteError && thrown.thrown === 42);
      await assert.rejects(fexec.getResult(futures), (e: unknown) => e instanceof RemoteError && e.callId === 1);
      assert.equal(futures[1]?.status, 'error');
    });

    it('stops a call over its timeout and the others finish', async () => {
      const futures = await fexec.map(misbehave, [{ ok: 1 }, 'hang', { ok: 2 }] as Act[], { timeout: 1 });
      const results = await fexec.getResult(futures, { throwOnError: false });
      assert.deepEqual([results[0], results[2]], [2, 4]);
      assert.ok(results[1] instanceof TimeoutError, `got ${String(results[1])}`);
      assert.equal(results[1].callId, 1);
      assert.match(results[1].message, /timeout of 1 s/);
    });

    it('reports a worker that exits as a WorkerCrashError for that call only', async () => {
      const futures = await fexec.map(misbehave, [{ ok: 1 }, 'exit', { ok: 5 }] as Act[]);
      const results = await fexec.getResult(futures, { throwOnError: false });
      assert.deepEqual([results[0], results[2]], [2, 10]);
      const err = results[1];
      assert.ok(err instanceof WorkerCrashError, `got ${String(err)}`);
      assert.equal(err.exitCode, 3);
      assert.equal(err.callId, 1);
    });

    it('reports running out of memory as OutOfMemoryError', async () => {
      const small = new FunctionExecutor({ ...base, runtimeMemory: 64 });
      try {
        const futures = await small.map(misbehave, ['oom', { ok: 4 }] as Act[]);
        const results = await small.getResult(futures, { throwOnError: false });
        assert.ok(results[0] instanceof OutOfMemoryError, `got ${String(results[0])}`);
        assert.equal(results[1], 8);
      } finally {
        await small.close();
      }
    });

    it('retries a failed call and records its attempts', async () => {
      const runs = fresh('runs');
      const futures = await fexec.map(flakyCounted, [1, 2], { retries: 1, extraArgs: { runs } });
      assert.deepEqual(await fexec.getResult(futures), [10, 20]);
      assert.deepEqual(
        await executions(runs),
        ['0/1', '0/2', '1/1', '1/2'],
        'each call ran exactly twice: the failure and the retry',
      );
      for (const f of futures) {
        assert.equal(f.stats.attempt, 2);
        assert.equal(f.attempts.length, 1);
        assert.match(f.attempts[0]?.message ?? '', /first attempt of \d fails/);
      }
      const once = fresh('runs');
      const noRetry = await fexec.map(flakyCounted, [3], { extraArgs: { runs: once } });
      await assert.rejects(fexec.getResult(noRetry), /first attempt of 3 fails/);
      assert.deepEqual(await executions(once), ['0/1'], 'without retries the failed call ran once');
    });

    it('names an unserializable input before anything runs, and an unserializable result by call', async () => {
      const runs = fresh('runs');
      await assert.rejects(
        fexec.map(echoCounted, [1, { cb: () => 0 }], { extraArgs: { runs } }),
        (e: unknown) => e instanceof SerializationError && e.path === 'input[1].cb',
      );
      const futures = await fexec.map(misbehave, ['unserializable', { ok: 1 }] as Act[]);
      const results = await fexec.getResult(futures, { throwOnError: false });
      assert.ok(results[0] instanceof SerializationError, `got ${String(results[0])}`);
      assert.match(results[0].message, /result/);
      assert.equal(results[1], 2);
      // Checked after the later map finished: had the refused map sent its valid call, it would have run.
      assert.deepEqual(await executions(runs), [], 'no call of the refused map ran');
    });

    it('captures what a call prints', async () => {
      const [f] = await fexec.map(misbehave, ['log'] as Act[]);
      assert.equal(await f?.result(), 'logged');
      assert.match(f?.logs() ?? '', /line one\n[\s\S]*line two/);
    });

    it('mapReduce runs the reducer over the map results in input order', async () => {
      const futures = await fexec.mapReduce(addSeven, [1, 2, 3], sum);
      assert.equal(futures.length, 1);
      assert.deepEqual(await fexec.getResult(futures), [8 + 9 + 10]);
      assert.ok(futures[0]?.jobId.startsWith('R'));
      // A sum cannot show order: these calls finish out of input order, the reducer must still see input order.
      const ordered = await fexec.mapReduce(sleepMs, [600, 300, 1], joinInOrder);
      assert.deepEqual(await fexec.getResult(ordered), ['600,300,1']);
    });

    it('wait splits done from pending: a finished call is done, a blocked one pending', async () => {
      const gates = fresh('gates');
      const futures = await fexec.map(gated, ['fast', 'blocked'], { extraArgs: { gates } });
      try {
        const now = await fexec.wait(futures, { returnWhen: 'ALWAYS' });
        assert.deepEqual([ids(now.done), ids(now.pending)], [[], [0, 1]], 'no gate is open yet: both pending');
        await open(gates, 'fast');
        const any = await fexec.wait(futures, { returnWhen: 'ANY_COMPLETED' });
        assert.deepEqual([ids(any.done), ids(any.pending)], [[0], [1]]);
        assert.equal(futures[0]?.status, 'success');
        assert.equal(futures[1]?.done, false);
      } finally {
        await open(gates, 'blocked');
      }
      const all = await fexec.wait(futures);
      assert.deepEqual([ids(all.done), ids(all.pending)], [[0, 1], []]);
      assert.deepEqual(await fexec.getResult(futures), ['fast', 'blocked']);
    });

    it('asCompleted yields calls in the order they really finished', async () => {
      // The test opens each gate only once the previous call is done, so the finishing order is
      // known (b, c, a: neither input order nor its reverse) without relying on timing.
      const gates = fresh('gates');
      const futures = await fexec.map(gated, ['a', 'b', 'c'], { extraArgs: { gates } });
      const yielded = (async () => {
        const out: string[] = [];
        for await (const f of fexec.asCompleted(futures)) out.push(await f.result());
        return out;
      })();
      try {
        for (const [i, name] of [
          [1, 'b'],
          [2, 'c'],
          [0, 'a'],
        ] as const) {
          await open(gates, name);
          await fexec.wait([futures[i] as Future<string>]);
        }
      } finally {
        await open(gates, 'a', 'b', 'c');
      }
      assert.deepEqual(await yielded, ['b', 'c', 'a']);
      // The workers' own clocks agree: each call ended after the one before it.
      const ends = [1, 2, 0].map((i) => futures[i]?.stats.fnEnd ?? NaN);
      assert.ok(ends[0]! < ends[1]! && ends[1]! < ends[2]!, `fnEnd of b, c, a: ${ends.join(', ')}`);
    });

    it('ctx.storage reaches the executor storage from inside a task', async () => {
      const bucket = fexec.options.bucket;
      const keys = await fexec.getResult(await fexec.map(roundTripStorage, [1, 2], { extraArgs: { bucket } }));
      const name = typeof base.storage === 'string' ? base.storage : 'fs';
      const storage = new Storage({ driver: name, ...((base as Record<string, unknown>)[name] as object) });
      try {
        assert.deepEqual(await Promise.all(keys.map((k) => storage.getText(bucket, k))), ['value 1', 'value 2']);
      } finally {
        await storage.close();
      }
    });

    it('close() settles pending calls with CancelledError', async () => {
      const own = new FunctionExecutor(base);
      const futures = await own.map(sleepMs, [5000, 5000]);
      await own.close();
      for (const f of futures) {
        assert.equal(f.status, 'error');
        assert.ok(f.error instanceof CancelledError);
      }
      await assert.rejects(own.map(addSeven, [1]), CancelledError);
    });
  });
}
