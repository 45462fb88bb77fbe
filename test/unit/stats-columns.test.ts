/**
 * A job's futures keep their stats in typed columns (src/executor/stats-columns.ts) and read them
 * back as plain objects: a field is there once it is set and absent before (0 is "not set" in the
 * columns, so a real 0 must still read as 0), every worker field survives, and a future made alone
 * behaves the same. The pool's call queue (src/worker/call-queue.ts) hands calls out in order, those
 * given back first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError } from '../../src/errors.ts';
import { Future } from '../../src/executor/future.ts';
import { FutureJob } from '../../src/executor/future-job.ts';
import { StatsColumns } from '../../src/executor/stats-columns.ts';
import { CallQueue, firstAttempts } from '../../src/worker/call-queue.ts';
import type { WorkerCallStats } from '../../src/worker/protocol.ts';

const worker = (over: Partial<WorkerCallStats> = {}): WorkerCallStats => ({
  workerStart: 1_700_000_000_000,
  fnStart: 1_700_000_000_100,
  fnEnd: 1_700_000_000_107,
  cold: false,
  bytesIn: 0,
  bytesOut: 0,
  hostname: 'h1',
  pid: 42,
  ...over,
});

for (const made of ['in columns', 'alone'] as const) {
  test(`a future's stats (${made}) read as a plain object with the fields set so far`, () => {
    const cols = new StatsColumns(3, 1000);
    const f = made === 'alone' ? FutureJob.alone('E', 'J', 1) : new Future(new FutureJob('E', 'J', cols), 1);
    const before = f.stats;
    assert.equal(before.attempt, 1);
    assert.equal(typeof before.submitted, 'number');
    for (const k of ['invoked', 'fnStart', 'fnEnd', 'cold', 'bytesIn', 'bytesOut', 'hostname', 'pid', 'threadId'])
      assert.equal(k in before, false, `${k} is not set before the call ran`);

    f._stat('invoked', 2000);
    f._workerStats(worker({ cold: true, threadId: 3 }), 1_700_000_000_110);
    f._resolve(5);
    const s = f.stats;
    assert.equal(s.invoked, 2000);
    assert.equal(s.workerStart, 1_700_000_000_000);
    assert.equal(s.fnStart, 1_700_000_000_100);
    assert.equal(s.fnEnd, 1_700_000_000_107);
    assert.equal(s.stored, 1_700_000_000_110);
    assert.equal(s.cold, true);
    assert.equal(s.bytesIn, 0, 'a size of 0 reads as 0 once the worker reported it');
    assert.equal(s.bytesOut, 0);
    assert.equal(s.hostname, 'h1');
    assert.equal(s.pid, 42);
    assert.equal(s.threadId, 3);
    assert.equal(typeof s.resultReceived, 'number');
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'no undefined fields: it serializes as it reads');

    f._stat('backup', 'won');
    f._stat('cached', true);
    f._stat('location', { platform: 'p', text: 'there' });
    assert.equal(f.stats.backup, 'won');
    assert.equal(f.stats.cached, true);
    assert.equal(f.stats.location?.text, 'there');
  });
}

test('stats columns: rows are independent, attempts past 16 bits, workers told apart, retries counted', () => {
  const cols = new StatsColumns(4, 1000);
  const job = new FutureJob('E', 'J', cols);
  const futures = [0, 1, 2, 3].map((i) => new Future(job, i));
  futures[0]?._workerStats(worker({ pid: 1 }), undefined);
  futures[1]?._workerStats(worker({ pid: 2, bytesIn: 9, bytesOut: 11 }), undefined);
  futures[2]?._workerStats(worker({ pid: 1, threadId: 7 }), undefined);
  assert.deepEqual(
    futures.map((f) => [f.stats.pid, f.stats.threadId, f.stats.bytesIn]),
    [
      [1, undefined, 0],
      [2, undefined, 9],
      [1, 7, 0],
      [undefined, undefined, undefined],
    ],
  );
  assert.equal('stored' in (futures[0]?.stats ?? {}), false);
  futures[3]?._stat('attempt', 70_000);
  assert.equal(futures[3]?.stats.attempt, 70_000);
  const f = futures[0] as Future<unknown>;
  f._retry(new Error('x') as never);
  f._retry(new Error('y') as never);
  assert.equal(f.stats.attempt, 3);
  assert.equal(f.attempts.length, 2);
  assert.equal(futures[1]?.stats.attempt, 1);
  // A shared time set for the whole job, then one row apart.
  cols.invoked.setAll(5000);
  futures[2]?._stat('invoked', 6000);
  assert.deepEqual(
    futures.map((x) => x.stats.invoked),
    [5000, 5000, 6000, 5000],
  );
});

test('call queue: calls in order, those given back first and in their order, made only when taken', () => {
  const made: number[] = [];
  const inputs = ['a', 'b', 'c', 'd', 'e'];
  const list = firstAttempts(inputs);
  const q = new CallQueue({ length: list.length, call: (i) => (made.push(i), list.call(i)) });
  assert.equal(q.size, 5);
  const first = [q.take(), q.take(), q.take()];
  assert.deepEqual(made, [0, 1, 2], 'three calls made, the rest not yet');
  assert.deepEqual(
    first.map((c) => [c?.callId, c?.attempt, c?.input]),
    [
      [0, 1, 'a'],
      [1, 1, 'b'],
      [2, 1, 'c'],
    ],
  );
  q.putBack([first[1], first[2]].filter((c) => c !== undefined));
  assert.equal(q.size, 4);
  assert.deepEqual(
    q.takeAll().map((c) => c.callId),
    [1, 2, 3, 4],
  );
  assert.equal(q.take(), undefined);
  const arrayQueue = new CallQueue([{ callId: 9, attempt: 2, input: null }]);
  arrayQueue.clear();
  assert.equal(arrayQueue.size, 0);
});

for (const made of ['in columns', 'alone'] as const) {
  test(`a plain success settled from its fields (${made}) reads as the same success settled from a whole record`, () => {
    const identity = { workerStart: 1_700_000_000_000, hostname: 'h1', pid: 42, threadId: 3 };
    const make = (i: number) =>
      made === 'alone'
        ? FutureJob.alone<number>('E', 'J', i)
        : new Future<number>(new FutureJob('E', 'J', new StatsColumns(2, 1000)), i);
    const fast = make(1);
    const slow = make(1);
    fast._plainSuccess(7, identity, 1_700_000_000_100, 1_700_000_000_107, 12, 1_700_000_000_110);
    slow._workerStats(
      { ...identity, fnStart: 1_700_000_000_100, fnEnd: 1_700_000_000_107, cold: false, bytesIn: 0, bytesOut: 12 },
      1_700_000_000_110,
    );
    slow._resolve(7);
    // Two futures made alone each take the clock as their submit time: a millisecond may pass between them.
    const { resultReceived, submitted, ...rest } = fast.stats;
    const { resultReceived: _r, submitted: slowSubmitted, ...want } = slow.stats;
    assert.deepEqual(rest, want);
    assert.ok(made === 'alone' || submitted === slowSubmitted);
    assert.equal(resultReceived, 1_700_000_000_110, 'received when its status was stored');
    assert.equal(fast.status, 'success');
    assert.equal(fast.done, true);
    assert.equal(fast.error, undefined);
    assert.deepEqual([fast.jobId, fast.executorId, fast.callId], ['J', 'E', 1]);
    fast._plainSuccess(8, identity, 1, 2, 3, 4);
    assert.equal(fast._value(), 7, 'settles once');
  });
}

test('a plain success row stores its receipt time once, and reads, rewrites and retries as if it stored both', () => {
  const cols = new StatsColumns(4, 1000);
  const identity = { workerStart: 1_700_000_000_000, hostname: 'h1', pid: 42 };
  cols.setPlain(0, identity, 100, 107, 12, 110);
  assert.equal(cols.get(0, 'stored'), 110, 'stored when received');
  assert.equal(cols.get(0, 'resultReceived'), 110);
  assert.deepEqual([cols.get(0, 'cold'), cols.get(0, 'bytesIn'), cols.get(0, 'bytesOut')], [false, 0, 12]);
  // Setting one of the two times leaves the other as it was.
  cols.set(0, 'resultReceived', 150);
  assert.deepEqual([cols.get(0, 'stored'), cols.get(0, 'resultReceived')], [110, 150]);
  cols.setPlain(1, identity, 100, 107, 0, 120);
  cols.set(1, 'stored', undefined);
  assert.deepEqual([cols.get(1, 'stored'), cols.get(1, 'resultReceived')], [undefined, 120]);
  cols.setPlain(2, identity, 100, 107, 0, 130);
  cols.set(2, 'cold', true);
  assert.deepEqual([cols.get(2, 'stored'), cols.get(2, 'cold')], [130, true]);
  // A later attempt's whole record after a plain one, and a plain one after a record that read and wrote bytes.
  cols.setPlain(3, identity, 100, 107, 0, 140);
  cols.setWorkerStats(3, worker({ bytesIn: 5, bytesOut: 6 }), undefined);
  assert.deepEqual([cols.get(3, 'stored'), cols.get(3, 'bytesIn'), cols.get(3, 'bytesOut')], [140, 5, 6]);
  cols.setPlain(3, identity, 200, 207, 0, 210);
  assert.deepEqual(
    [cols.get(3, 'stored'), cols.get(3, 'resultReceived'), cols.get(3, 'bytesIn'), cols.get(3, 'bytesOut')],
    [210, 210, 0, 0],
  );
  cols.set(3, 'bytesIn', 9);
  assert.deepEqual(
    [cols.get(3, 'stored'), cols.get(3, 'bytesIn'), cols.get(3, 'bytesOut'), cols.get(3, 'cold')],
    [210, 9, 0, false],
  );
});

test('the futures of one job share what they have in common; each keeps its own state', async () => {
  const job = new FutureJob('E', 'J', new StatsColumns(3, 1000));
  const [a, b] = [new Future<number>(job, 0), new Future<number>(job, 1)];
  assert.equal(a._job, b._job);
  b._reject(new CancelledError('no', { callId: 1, jobId: 'J' }), 'its logs');
  a._resolve(5, 'a logs');
  assert.equal(await a.result(), 5);
  assert.equal(a.error, undefined);
  assert.equal(a.logs(), 'a logs');
  assert.ok(b.error instanceof CancelledError);
  assert.equal(b.logs(), 'its logs');
  await assert.rejects(b.result(), CancelledError);
  // Two fields: a future is a handle on its row; the status, value, error and getResult's "read"
  // marks live in the job, so another handle on the row sees the same call.
  assert.deepEqual(Object.keys(a).sort(), ['_job', 'callId']);
  const again = job.handle<number>(1);
  assert.equal(again.status, 'error');
  assert.equal(again.error, b.error);
  assert.equal(again.logs(), 'its logs');
  assert.equal(a._read, false);
  a._read = true;
  assert.equal(a._read, true);
  assert.equal(b._read, false, 'marking one future read leaves the others of its job');
  a._read = false;
  assert.equal(a._read, false);
  const alone = FutureJob.alone<number>('E', 'K', 0);
  alone._read = true;
  assert.equal(alone._read, true);
  // A future made alone is a job of one row, whatever its call id.
  const seventh = FutureJob.alone<number>('E', 'K', 7);
  seventh._resolve(49);
  assert.equal(await seventh.result(), 49);
  assert.equal(seventh.status, 'success');
  assert.equal(FutureJob.alone<number>('E', 'K', 0)._read, false);
});
