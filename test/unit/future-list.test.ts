/**
 * A map's FutureList makes its future objects only when one of its elements is first read: every
 * way of reading an array must still see every future, in order, as the same objects each time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { CancelledError } from '../../src/errors.ts';
import { Future } from '../../src/executor/future.ts';
import { collectResults, FutureList } from '../../src/executor/future-list.ts';
import { FutureJob, listJob } from '../../src/executor/future-job.ts';
import { StatsColumns } from '../../src/executor/stats-columns.ts';
import { FunctionExecutor } from '../../src/index.ts';

const worker = { hostname: 'h', pid: 1, threadId: 1, workerStart: 1 };

function lazyList(n: number): { job: FutureJob; list: FutureList<number> } {
  const job = new FutureJob('E', 'J', new StatsColumns(n, 1000));
  return { job, list: FutureList.lazy_<number>(job) };
}

/** Whether the list still has no future objects (nothing read it). */
const untouched = (list: FutureList<unknown>): boolean => listJob(list) !== undefined && Object.keys(list).length === 0;

test('a lazy FutureList is an array of its futures however it is read', () => {
  const reads: Array<[string, (l: FutureList<number>) => unknown, unknown]> = [
    ['index', (l) => l[2]?.callId, 2],
    ['for-of', (l) => Array.from(l, (f) => f.callId), [0, 1, 2, 3]],
    ['spread', (l) => [...l].length, 4],
    [
      'forEach',
      (l) => {
        let n = 0;
        for (const _ of l) n++;
        l.forEach(() => n++);
        return n;
      },
      8,
    ],
    ['filter', (l) => l.filter((f) => f.callId % 2 === 0).length, 2],
    ['slice', (l) => l.slice(1, 3).map((f: Future<number>) => f.callId), [1, 2]],
    ['in', (l) => [0 in l, 3 in l, 4 in l], [true, true, false]],
    ['at', (l) => l.at(-1)?.callId, 3],
    ['JSON', (l) => (JSON.parse(JSON.stringify(l)) as unknown[]).length, 4],
    ['inspect', (l) => (inspect(l).match(/Future/g) ?? []).length >= 4, true],
    ['concat', (l) => ([] as Future<number>[]).concat(l).length, 4],
    ['every', (l) => l.every((f) => f instanceof Future), true],
  ];
  for (const [how, read, expected] of reads) {
    const { list } = lazyList(4);
    assert.ok(untouched(list), `${how}: nothing made before the read`);
    assert.ok(
      list instanceof FutureList && Object.prototype.isPrototypeOf.call(Array.prototype, list) && Array.isArray(list),
      how,
    );
    assert.equal(list.length, 4);
    assert.deepEqual(read(list), expected, how);
    assert.equal(listJob(list), undefined, `${how}: the first read made them all`);
    assert.equal(Object.getPrototypeOf(list), FutureList.prototype, how);
    assert.deepEqual(Object.keys(list), ['0', '1', '2', '3'], how);
    assert.equal(list[1], list[1], `${how}: the same future each time`);
  }
});

test('futures made late see what the job settled before, and an element set in the list is kept', async () => {
  const { job, list } = lazyList(3);
  job.plainSuccess(0, 10, worker, 5, 6, 2, 7);
  job.reject(2, new CancelledError('stop', { callId: 2, jobId: 'J' }));
  const mine = FutureJob.alone<number>('E', 'other', 9);
  mine._resolve(99);
  list[1] = mine; // set before any read: no future is made for the job's call 1
  assert.ok(listJob(list), 'setting an element makes nothing');
  assert.deepEqual(await collectResults(list, { throwOnError: false }).then((r) => r.map(String)), [
    '10',
    '99',
    'CancelledError: stop',
  ]);
  assert.ok(listJob(list), 'getResult made no future');
  assert.equal(list[0]?.status, 'success');
  assert.equal(list[0]?.stats.fnStart, 5);
  assert.equal(list[1], mine);
  assert.equal(list[2]?.error?.message, 'stop');
  assert.equal(list.cancel(), 0, 'nothing left to cancel');
});

test('a map waits, reads, tracks and cancels its calls without making its futures', async () => {
  const fexec = new FunctionExecutor({ progress: false, workers: 2 });
  try {
    const futures = await fexec.map(
      (x: number) => x * 2,
      Array.from({ length: 300 }, (_, i) => i),
    );
    assert.deepEqual(
      await fexec.getResult(futures),
      Array.from({ length: 300 }, (_, i) => i * 2),
    );
    assert.deepEqual(
      await futures.getResult(),
      Array.from({ length: 300 }, (_, i) => i * 2),
    );
    assert.deepEqual(await fexec.getResult(), [], 'read whole: nothing left unread');
    assert.ok(untouched(futures), 'no future object was made');
    const summary = fexec.stats();
    assert.equal(summary[0]?.calls, 300);
    assert.ok(!untouched(futures), 'stats read the futures');
    assert.equal(futures[299]?.status, 'success');

    const slow = await fexec.map(
      async (x: number) => {
        await new Promise((r) => setTimeout(r, 5000));
        return x;
      },
      [1, 2, 3],
    );
    assert.equal(slow.cancel('enough'), 3);
    assert.ok(untouched(slow), 'cancelled through the job');
    const settled = await fexec.getResult(slow, { throwOnError: false });
    assert.ok(settled.every((r) => r instanceof CancelledError));
  } finally {
    await fexec.close();
  }
});
