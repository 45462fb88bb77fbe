/**
 * Pool: a port of the p-map test cases that apply to calls running in worker processes (p-map's
 * own suite, rewritten: results in input order, `concurrency` bounds, `stopOnError` and
 * `AggregateError`, async-iterable inputs, throwing iterators, bad arguments, `signal`), then the
 * Piscina side (`run`, `filename`, `close`, `destroy`, `await using`), `imap`, `imapUnordered`
 * and `pMap`. Calls are counted by marker files the tasks write, not by their results.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelledError,
  ConfigError,
  FunctionExecutor,
  Pool,
  RemoteError,
  pMap,
  type CallContext,
} from '../../src/index.ts';

let root: string;
let marks: string;
let pool: Pool;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-pool-'));
  marks = join(root, 'marks');
  pool = new Pool({ workers: 4, fs: { root }, progress: false });
});
after(async () => {
  await pool.close();
  await rm(root, { recursive: true, force: true });
});

/** [value, ms]: waits ms, then returns value, or throws when value is "throw:<message>". */
async function delayed(input: [number | string, number]): Promise<number | string> {
  const [value, ms] = input;
  await new Promise((r) => setTimeout(r, ms));
  if (typeof value === 'string' && value.startsWith('throw:')) throw new Error(value.slice(6));
  return value;
}

/** Sleeps ms and returns when it ran (epoch ms), to measure how many calls overlapped. */
async function span(ms: number): Promise<[number, number]> {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return [start, Date.now()];
}

/** Writes a marker file `<dir>/<tag>` so the test counts executions, then behaves like `delayed`. */
async function marked(input: { dir: string; tag: string; ms: number; fail?: boolean }): Promise<string> {
  const fs = await import('node:fs/promises');
  await fs.mkdir(input.dir, { recursive: true });
  await fs.writeFile(`${input.dir}/${input.tag}`, '');
  await new Promise((r) => setTimeout(r, input.ms));
  if (input.fail) throw new Error(`Oops! ${input.tag}`);
  return input.tag;
}

/** Waits for the event `gate` when given, counts itself on the counter `mark` when given, returns `value`. */
async function gated(input: { value: number; gate?: string; mark?: string }, ctx: CallContext): Promise<number> {
  if (input.gate) await ctx.primitives.event(input.gate).wait({ timeout: 120 });
  if (input.mark) await ctx.primitives.counter(input.mark).add();
  return input.value;
}

const ran = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [] as string[])).sort();
const maxOverlap = (spans: Array<[number, number]>): number =>
  Math.max(0, ...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));

async function* slowly<T>(items: T[]): AsyncGenerator<T> {
  for (const x of items) {
    await new Promise((r) => setTimeout(r, 10));
    yield x;
  }
}

const shared: Array<[number, number] | Promise<[number, number]>> = [[10, 300], [20, 200], Promise.resolve([30, 100])];
const errors1: Array<[number | string, number]> = [
  [20, 200],
  [30, 100],
  ['throw:foo', 10],
  ['throw:bar', 10],
];
const errors2: Array<[number | string, number]> = [
  [20, 200],
  ['throw:bar', 10],
  [30, 100],
  ['throw:foo', 10],
];

test('p-map main: results in input order, items may be promises; sync and async inputs', async () => {
  assert.deepEqual(await pool.map(delayed, shared), [10, 20, 30]);
  assert.deepEqual(await pool.map(delayed, slowly(await Promise.all(shared))), [10, 20, 30]);
});

test('p-map concurrency: 1 runs one call at a time, in order', async () => {
  const spans = await pool.map(span, [50, 50, 50, 50], { concurrency: 1 });
  assert.equal(maxOverlap(spans), 1);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1]);
});

test('p-map concurrency: 3 never has more than 3 calls in flight (sync and async inputs)', async () => {
  const ms = Array.from({ length: 12 }, (_, i) => 30 + ((i * 37) % 90));
  assert.ok(maxOverlap(await pool.map(span, ms, { concurrency: 3 })) <= 3);
  assert.ok(maxOverlap(await pool.map(span, slowly(ms), { concurrency: 3 })) <= 3);
});

test('p-map empty iterable gives []', async () => {
  assert.deepEqual(await pool.map(delayed, []), []);
  assert.deepEqual(await pool.map(delayed, slowly([])), []);
});

test('p-map concurrency: 2 keeps input order under out-of-order completion', async () => {
  for (const ms of [
    [100, 200, 10, 36, 13, 45],
    [200, 100, 50],
  ]) {
    const input = ms.map((m): [number, number] => [m, m]);
    assert.deepEqual(await pool.map(delayed, input, { concurrency: 2 }), ms);
    assert.deepEqual(await pool.map(delayed, slowly(input), { concurrency: 2 }), ms);
  }
});

test('p-map enforces concurrency: an integer from 1 up or Infinity (ConfigError)', async () => {
  for (const bad of [0, 1.5, -1, Number.NaN, '2'])
    await assert.rejects(pool.map(delayed, [], { concurrency: bad as number }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.keyPath, 'concurrency');
      return true;
    });
  for (const good of [1, 10, Number.POSITIVE_INFINITY])
    assert.deepEqual(await pool.map(delayed, [], { concurrency: good }), []);
});

test('p-map stopOnError (default): rejects with the first error to happen', async () => {
  for (const [input, message] of [
    [errors1, 'foo'],
    [errors2, 'bar'],
  ] as const) {
    const err = await pool.map(delayed, input, { concurrency: 1 }).catch((e: unknown) => e);
    assert.ok(err instanceof RemoteError, String(err));
    assert.match(err.message, new RegExp(`^Error: ${message}`));
    const viaAsync = await pool.map(delayed, slowly(input), { concurrency: 1 }).catch((e: unknown) => e);
    assert.match((viaAsync as Error).message, new RegExp(`^Error: ${message}`));
  }
});

test('p-map stopOnError: false waits for every call and rejects with an AggregateError, in input order', async () => {
  assert.deepEqual(await pool.map(delayed, shared, { concurrency: 1, stopOnError: false }), [10, 20, 30]);
  for (const [input, messages] of [
    [errors1, ['foo', 'bar']],
    [errors2, ['bar', 'foo']],
  ] as const) {
    const err = await pool.map(delayed, input, { concurrency: 1, stopOnError: false }).catch((e: unknown) => e);
    assert.ok(err instanceof AggregateError, String(err));
    assert.deepEqual(
      err.errors.map((e: RemoteError) => e.message.replace(/^Error: (\w+).*$/, '$1')),
      messages,
    );
  }
});

test('p-map: with infinite concurrency every call runs even after the first error rejected the map', async () => {
  const dir = join(marks, 'all-run');
  const input = [
    { dir, tag: 'a', ms: 50, fail: true },
    { dir, tag: 'b', ms: 300 },
    { dir, tag: 'c', ms: 10 },
  ];
  const own = new Pool({ workers: 3, fs: { root }, progress: false });
  const err = await own.map(marked, input).catch((e: unknown) => e);
  assert.match((err as Error).message, /Oops! a/);
  await own.close(); // waits for the calls already started
  assert.deepEqual(await ran(dir), ['a', 'b', 'c']);
});

test('p-map concurrency: 1 with stopOnError starts nothing after the first error', async () => {
  const dir = join(marks, 'stop');
  const input = ['1', '2', '3'].map((tag) => ({ dir, tag, ms: 50, fail: true }));
  const err = await pool.map(marked, input, { concurrency: 1 }).catch((e: unknown) => e);
  assert.match((err as Error).message, /Oops! 1/);
  assert.deepEqual(await ran(dir), ['1']);
});

/** An iterable of 0, 1, … max-1 whose next() throws on item `throwOn`; `reads` counts next() calls. */
function throwingIterable(max: number, throwOn: number, dir: string) {
  const state = { reads: 0 };
  const iterable: Iterable<{ dir: string; tag: string; ms: number; fail?: boolean }> & typeof state = Object.assign(
    state,
    {
      [Symbol.iterator]() {
        let i = 0;
        return {
          next: () => {
            state.reads++;
            if (i === throwOn) throw new Error(`throwing on index ${i}`);
            const r = { value: { dir, tag: String(i), ms: 50, fail: throwOn === 1 && i === 0 }, done: i === max };
            i++;
            return r;
          },
        };
      },
    },
  );
  return iterable;
}

test('p-map catches an exception of the source iterator (1st item, 2nd item, after a failed call)', async () => {
  const first = throwingIterable(100, 0, join(marks, 'src0'));
  await assert.rejects(pool.map(marked, first, { concurrency: 1 }), { message: 'throwing on index 0' });
  assert.equal(first.reads, 1);
  assert.deepEqual(await ran(join(marks, 'src0')), []);
  // stopOnError: false does not hide a broken input: the iterator's error rejects the map.
  const second = throwingIterable(100, 1, join(marks, 'src1'));
  await assert.rejects(pool.map(marked, second, { concurrency: 1, stopOnError: false }), {
    message: 'throwing on index 1',
  });
  assert.equal(second.reads, 2);
  assert.deepEqual(await ran(join(marks, 'src1')), ['0']);
});

test('p-map incorrect input type and invalid function: ConfigError, and no call runs', async () => {
  const dir = join(marks, 'bad-input');
  await assert.rejects(
    pool.map(marked, 123456 as never),
    (e: unknown) => e instanceof ConfigError && e.keyPath === 'inputs',
  );
  await assert.rejects(
    pool.map('not a function' as never, [{ dir, tag: 'x', ms: 0 }]),
    (e: unknown) => e instanceof ConfigError,
  );
  assert.deepEqual(await ran(dir), []);
});

test('p-map signal: aborting rejects with a CancelledError whose cause is the reason; no listener left behind', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('enough')), 100);
  const err = await pool
    .map(
      delayed,
      [
        [1, 2000],
        [2, 2000],
      ],
      { signal: controller.signal },
    )
    .catch((e: unknown) => e);
  assert.ok(err instanceof CancelledError, String(err));
  assert.equal((err.cause as Error).message, 'enough');
  const already = new AbortController();
  already.abort();
  await assert.rejects(pool.map(delayed, [[1, 10]], { signal: already.signal }), CancelledError);
  assert.equal(getEventListeners(already.signal, 'abort').length, 0);
});

test('imap yields in input order, imapUnordered in completion order; both honour concurrency and errors', async () => {
  // Call 1 waits on an event the test sets only after the later calls finished: no timing involved.
  const prims = pool.executor.primitives;
  const ordered = (async () => {
    const out: number[] = [];
    for await (const v of pool.imap(gated, [
      { value: 1, gate: 'g1' },
      { value: 2, mark: 'm1' },
      { value: 3, mark: 'm1' },
    ]))
      out.push(v);
    return out;
  })();
  while ((await prims.counter('m1').get()) < 2) await new Promise((r) => setTimeout(r, 20));
  await prims.event('g1').set();
  assert.deepEqual(await ordered, [1, 2, 3]);
  const it = pool.imapUnordered(gated, [{ value: 1, gate: 'g2' }, { value: 2 }])[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 2, done: false });
  await prims.event('g2').set();
  assert.deepEqual(await it.next(), { value: 1, done: false });
  assert.equal((await it.next()).done, true);
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const v of pool.imap(
      delayed,
      [
        [1, 10],
        ['throw:x', 10],
        [3, 10],
      ] as Array<[number | string, number]>,
      { concurrency: 1 },
    ))
      seen.push(v as number);
  }, /Error: x/);
  assert.deepEqual(seen, [1]);
});

test('run, and a Piscina-style pool built from a filename', async () => {
  assert.equal(await pool.run(delayed, [7, 1]), 7);
  const file = join(root, 'task.mjs');
  await writeFile(file, 'export default ({ a, b }) => a + b;\nexport function times({ a, b }) { return a * b; }\n');
  const piscina = new Pool({ filename: file, fs: { root }, progress: false });
  try {
    assert.equal(await piscina.run({ a: 4, b: 6 }), 10);
    assert.equal(await piscina.run({ a: 4, b: 6 }, { name: 'times' }), 24);
    await assert.rejects(piscina.run({ a: 1, b: 2 }, { name: 'nope' }), /has no function export "nope"/);
  } finally {
    await piscina.close();
  }
  await assert.rejects(pool.run({ a: 1 }), (e: unknown) => e instanceof ConfigError && e.keyPath === 'filename');
});

test('close waits for started calls and refuses new ones; destroy cancels them; await using closes', async () => {
  const dir = join(marks, 'close');
  const p = new Pool({ workers: 2, fs: { root }, progress: false });
  const running = p.run(marked, { dir, tag: 'slow', ms: 300 });
  await new Promise((r) => setTimeout(r, 50));
  await p.close();
  assert.equal(await running, 'slow');
  await assert.rejects(p.run(marked, { dir, tag: 'late', ms: 0 }), CancelledError);
  assert.deepEqual(await ran(dir), ['slow']);

  const d = new Pool({ workers: 2, fs: { root }, progress: false });
  const doomed = d.map(delayed, [
    [1, 5000],
    [2, 5000],
  ]);
  await new Promise((r) => setTimeout(r, 100));
  await d.destroy();
  await assert.rejects(doomed, CancelledError);

  const shared = new FunctionExecutor({ workers: 1, fs: { root }, progress: false });
  {
    await using scoped = new Pool({ executor: shared });
    assert.deepEqual(await scoped.map(delayed, [[5, 1]]), [5]);
  }
  // A pool on a given executor leaves it open.
  assert.equal(await (await shared.callAsync(delayed, [6, 1])).result(), 6);
  await shared.close();
});

test('pMap: p-map argument order, on a pool of its own or a given one', async () => {
  assert.deepEqual(
    await pMap(
      [
        [1, 10],
        [2, 5],
      ] as Array<[number, number]>,
      delayed,
      { concurrency: 1, executor: { fs: { root }, progress: false } },
    ),
    [1, 2],
  );
  assert.deepEqual(await pMap([[3, 1]] as Array<[number, number]>, delayed, { pool }), [3]);
});
