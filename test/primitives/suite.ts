/**
 * The primitives' shared suite: the same checks, from the client and from tasks, on every store
 * (the in-process one, Redis) and backend (localhost, Slurm). Executions are counted through the
 * primitives themselves and checked against what each call returned.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionExecutor, PrimitiveError, WorkerCrashError, type ExecutorOptions } from '../../src/index.ts';
import { awaitEvent, bump, consume, dieHoldingLock, lockedIncrement, meet, produce } from './tasks.ts';

export function primitivesSuite(
  name: string,
  setup: { skip: () => Promise<string | undefined>; options: () => Promise<ExecutorOptions> },
): void {
  describe(name, async () => {
    const skip = await setup.skip();
    let fexec: FunctionExecutor;
    before(async () => {
      if (!skip) fexec = new FunctionExecutor(await setup.options());
    });
    after(async () => {
      await fexec?.close();
    });

    test('queue from the client: FIFO, timeout, tryGet, size, end and for await', { skip }, async () => {
      const q = fexec.primitives.queue<{ n: number }>('client-q');
      await q.put({ n: 1 });
      await q.put({ n: 2 });
      assert.equal(await q.size(), 2);
      assert.deepEqual(await q.get(), { n: 1 });
      assert.deepEqual(await q.tryGet(), { n: 2 });
      assert.equal(await q.tryGet(), undefined);
      await assert.rejects(
        q.get({ timeout: 0.2 }),
        (e: unknown) => e instanceof PrimitiveError && e.code === 'PRIMITIVE_TIMEOUT',
      );
      const later = q.get({ timeout: 20 });
      await q.put({ n: 3 });
      assert.deepEqual(await later, { n: 3 });
      await q.put({ n: 4 });
      await q.end();
      const all: number[] = [];
      for await (const v of q) all.push(v.n);
      assert.deepEqual(all, [4]);
      await assert.rejects(q.get(), /has ended/);
    });

    test('tasks count themselves on a counter: every call exactly once', { skip }, async () => {
      const seen = await (await fexec.map(bump, Array(12).fill('calls'))).getResult();
      assert.equal(await fexec.primitives.counter('calls').get(), 12);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    });

    test('a lock serialises read-modify-write across tasks (no lost update)', { skip }, async () => {
      await (await fexec.map(lockedIncrement, Array(8).fill('rmw'))).getResult();
      assert.equal(await fexec.primitives.value<number>('rmw').get(), 8);
    });

    test('a task killed while holding a lock does not deadlock: its lease expires', { skip }, async () => {
      const [future] = await fexec.map(dieHoldingLock, ['doomed'], { retries: 0 });
      await fexec.primitives.event('doomed-held').wait({ timeout: 60 });
      await assert.rejects(future!.result(), WorkerCrashError);
      const held = await fexec.primitives.lock('doomed').acquire({ timeout: 20 });
      await held.release();
    });

    test('a queue between tasks: one producer, three consumers, every value taken once', { skip }, async () => {
      const consumers = await fexec.map(consume, ['pipe', 'pipe', 'pipe']);
      const producer = await fexec.callAsync(produce, { name: 'pipe', n: 30 });
      assert.equal(await producer.result(), 30);
      const got = (await consumers.getResult()).flat().sort((a, b) => a - b);
      assert.deepEqual(
        got,
        Array.from({ length: 30 }, (_, i) => i),
      );
    });

    test('a barrier lets tasks go only together; one short times out', { skip }, async () => {
      const rounds = await (await fexec.map(meet, Array(3).fill({ name: 'b3', parties: 3 }))).getResult();
      assert.deepEqual(rounds, [0, 0, 0]);
      await assert.rejects(fexec.primitives.barrier('b2', 2).wait({ timeout: 0.3 }), /did not succeed within 0.3 s/);
    });

    test('an event set by the client releases waiting tasks; job-scoped names are per job', { skip }, async () => {
      const futures = await fexec.map(awaitEvent, ['go', 'go']);
      assert.equal(await fexec.primitives.event('go').isSet(), false);
      await fexec.primitives.event('go').set();
      const seen = (await futures.getResult()).sort();
      assert.deepEqual(seen, [1, 2]);
      const jobId = futures[0]!.jobId;
      assert.equal(await fexec.primitives.forJob(jobId).counter('seen').get(), 2);
      assert.equal(await fexec.primitives.counter('seen').get(), 0);
      assert.ok((await fexec.primitives.forJob(jobId).clear()) >= 1);
      assert.equal(await fexec.primitives.forJob(jobId).counter('seen').get(), 0);
    });
  });
}
