/**
 * Worker threads (the localhost default, `isolation: 'thread'`): their frames travel through a 1 MiB
 * ring in shared memory (src/worker/frame-ring.ts). Results larger than the ring, and many results
 * wrapping around it, arrive whole and in order; a Buffer input stays a Buffer; an uncaught error
 * from a timer fails the call running when it fires, and its report says why; the result written
 * before the thread died is kept. The data tests run on worker processes too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, WorkerCrashError, type CallContext } from '../../src/index.ts';
import { RING_BYTES } from '../../src/worker/frame-ring.ts';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function executor(isolation: 'thread' | 'process', workers = 2): Promise<FunctionExecutor> {
  const root = await mkdtemp(join(tmpdir(), 'burst-threads-'));
  roots.push(root);
  return new FunctionExecutor({ workers, fs: { root }, localhost: { isolation }, progress: false });
}

/** A deterministic buffer of `n` bytes seeded by `seed`. */
function bytes(input: { n: number; seed: number }): Buffer {
  const b = Buffer.allocUnsafe(input.n);
  let x = input.seed >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** One object every call returns: each result frame must carry it whole, not as a reference to an earlier frame. */
const SHARED = { list: [1, 2], map: new Map([['k', 1n]]) };
function shared(i: number): typeof SHARED {
  if (i % 2) console.log(`call ${i}`); // odd calls have logs: their records travel whole, not as compact frames
  return SHARED;
}

/** Returns at once, leaving a promise whose callback logs after the return. */
function floating(x: number): number {
  void Promise.resolve().then(() => console.log(`after ${x}`));
  console.log(`in ${x}`);
  return x;
}

/**
 * Returns a value the worker finishes without a promise (even x), a thenable that is not a Promise
 * (x % 4 === 1) or one whose `then` getter throws (x % 4 === 3). Each `then` read is logged, so the
 * test sees it read once, as an `await` reads it; the thenable's value arrives one turn later.
 */
function thenables(x: number): unknown {
  if (x % 2 === 0) return x * 10;
  if (x % 4 === 1)
    return {
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is what this test ships
      get then() {
        console.log('then read');
        return (resolve: (v: number) => void) => setTimeout(() => resolve(x * 10), 1);
      },
    };
  return {
    // biome-ignore lint/suspicious/noThenProperty: a thenable whose then getter throws is what this test ships
    get then(): never {
      throw new RangeError(`then of ${x} refused`);
    },
  };
}

/** Throws at once, leaving a promise whose callback logs after the throw. */
function floatingThrow(x: number): never {
  void Promise.resolve().then(() => console.log(`after ${x}`));
  throw new TypeError(`no ${x}`);
}

for (const isolation of ['thread', 'process'] as const) {
  test(`${isolation}: results 3× the ring, and 2,000 results wrapping around it, arrive whole and in order`, async () => {
    const fexec = await executor(isolation);
    try {
      const big = [3 * RING_BYTES + 17, RING_BYTES - 1, 5].map((n, seed) => ({ n, seed: seed + 1 }));
      const got = await fexec.getResult(await fexec.map(bytes, big));
      got.forEach((b, i) => {
        assert.ok(Buffer.isBuffer(b), `result ${i} is a Buffer`);
        assert.equal(sha(b), sha(bytes(big[i] as { n: number; seed: number })), `result ${i} intact`);
      });
      // ~2 KiB each: 2,000 of them go around the ring several times.
      const many = Array.from({ length: 2000 }, (_, i) => ({ n: 2048 + (i % 7), seed: i + 10 }));
      const hashes = await fexec.getResult(await fexec.map((x: { n: number; seed: number }) => bytes(x), many));
      hashes.forEach((b, i) => assert.equal(sha(b), sha(bytes(many[i] as { n: number; seed: number })), `call ${i}`));
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: a Buffer input arrives as a Buffer`, async () => {
    const fexec = await executor(isolation, 1);
    try {
      const [kind] = await fexec.getResult(
        await fexec.map((b: Buffer) => `${Buffer.isBuffer(b)}:${b.toString()}`, [Buffer.from('xyz')]),
      );
      assert.equal(kind, 'true:xyz');
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: a Buffer in extraArgs reaches every call as a Buffer, beside numeric inputs`, async () => {
    const fexec = await executor(isolation, 1);
    try {
      const seen = await fexec.getResult(
        await fexec.map((x: number, ctx: { args: unknown }) => `${x}:${Buffer.isBuffer(ctx.args)}`, [1, 2, 3], {
          extraArgs: Buffer.from('key'),
        }),
      );
      assert.deepEqual(seen, ['1:true', '2:true', '3:true']);
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: numeric inputs (sent as one Float64Array a batch) arrive exactly; a batch that mixes in other values too`, async () => {
    const fexec = await executor(isolation, 1);
    const shown = (x: unknown): string =>
      `${typeof x}:${Object.is(x, -0) ? '-0' : typeof x === 'object' ? JSON.stringify(x) : String(x)}`;
    try {
      const odd = [
        -0,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        0.1,
        2 ** 53 + 2,
        -1e308,
        5e-324,
      ];
      const numbers = Array.from({ length: 300 }, (_, i) => odd[i % odd.length] as number);
      assert.deepEqual(await fexec.getResult(await fexec.map(shown, numbers)), numbers.map(shown));
      // A few calls: batches too small for typed arrays (a thread gets them as postMessage clones).
      assert.deepEqual(await fexec.getResult(await fexec.map(shown, odd)), odd.map(shown));
      // Numbers first, then other kinds, in the same batches.
      const mixed = Array.from({ length: 300 }, (_, i) =>
        i % 50 === 49 ? (i % 100 === 99 ? { i } : `s${i}`) : i - 0.5,
      );
      assert.deepEqual(await fexec.getResult(await fexec.map(shown, mixed)), mixed.map(shown));
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: a function that returns the same object every call: every result arrives whole`, async () => {
    const fexec = await executor(isolation, 1);
    try {
      const got = await fexec.getResult(await fexec.map(shared, [0, 1, 2, 3, 4, 5]));
      assert.deepEqual(got, Array(6).fill(SHARED));
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: a thenable that is not a Promise is awaited (its then read once); a then that throws fails its call`, async () => {
    const fexec = await executor(isolation, 1);
    try {
      const futures = await fexec.map(thenables, [0, 1, 2, 3, 4, 5]);
      const got = await fexec.getResult(futures, { throwOnError: false });
      assert.deepEqual(got.slice(0, 3), [0, 10, 20]);
      assert.deepEqual([got[4], got[5]], [40, 50]);
      assert.ok(got[3] instanceof Error && /then of 3 refused/.test(got[3].message), String(got[3]));
      assert.deepEqual(
        Array.from(futures, (f) => f.logs() ?? ''),
        ['', 'then read\n', '', '', '', 'then read\n'],
      );
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: what a synchronous function that throws leaves floating is in that call's own logs`, async () => {
    const fexec = await executor(isolation, 1);
    try {
      const futures = await fexec.map(floatingThrow, [1, 2, 3]);
      const got = await fexec.getResult(futures, { throwOnError: false });
      got.forEach((e, i) => assert.ok(e instanceof Error && e.message.includes(`no ${i + 1} in call ${i}`), String(e)));
      assert.deepEqual(
        Array.from(futures, (f) => f.logs()),
        [1, 2, 3].map((x) => `after ${x}\n`),
      );
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: what a synchronous function logs from a promise it left floating is in that call's own logs`, async () => {
    const fexec = await executor(isolation, 1);
    try {
      const futures = await fexec.map(floating, [1, 2, 3, 4]);
      assert.deepEqual(await fexec.getResult(futures), [1, 2, 3, 4]);
      // One call at a time on one worker: a call's microtasks must not spill into the next call's logs.
      assert.deepEqual(
        Array.from(futures, (f) => f.logs()),
        [1, 2, 3, 4].map((x) => `in ${x}\nafter ${x}\n`),
      );
    } finally {
      await fexec.close();
    }
  });

  test(`${isolation}: every kind of result survives the compact frame of a warm worker, and each call names its worker`, async () => {
    const fexec = await executor(isolation, 2);
    try {
      // Call i returns kinds[i % kinds.length]; after its first call a worker sends plain results in
      // fixed fields (src/worker/frames.ts), so most of these take that path.
      const kinds = (i: number): unknown => {
        const all = [
          undefined,
          null,
          true,
          false,
          -0,
          Number.NaN,
          1e300,
          7,
          'ünïcode ✓',
          '',
          { a: [1, 'b'] },
          new Map([[1, 2]]),
          12n,
          new Date(5),
          Buffer.from('buf'),
        ];
        // A busy millisecond, so both workers get calls.
        const until = Date.now() + 1;
        while (Date.now() < until);
        return all[i % all.length];
      };
      const n = 150;
      const futures = await fexec.map(
        kinds,
        Array.from({ length: n }, (_, i) => i),
      );
      const got = await fexec.getResult(futures);
      got.forEach((v, i) => {
        const want = kinds(i);
        if (Buffer.isBuffer(want)) assert.ok(Buffer.isBuffer(v) && v.equals(want), `call ${i}: a Buffer`);
        else if (typeof want === 'number') assert.ok(Object.is(v, want), `call ${i}: ${String(v)} is ${String(want)}`);
        else assert.deepEqual(v, want, `call ${i}`);
      });
      const workers = new Set(Array.from(futures, (f) => `${f.stats.hostname}:${f.stats.pid}:${f.stats.threadId}`));
      assert.equal(workers.size, 2, `two workers ran the calls: ${[...workers].join(', ')}`);
      for (const f of futures) {
        const s = f.stats;
        assert.ok(s.fnStart !== undefined && s.fnEnd !== undefined && s.fnEnd >= s.fnStart, `call ${f.callId} times`);
        assert.equal(typeof s.workerStart, 'number');
        if (isolation === 'thread') {
          assert.equal(s.pid, process.pid);
          assert.equal(typeof s.threadId, 'number', `call ${f.callId} names its thread`);
        } else {
          assert.notEqual(s.pid, process.pid);
          assert.equal(s.threadId, undefined);
        }
      }
      assert.equal(futures.filter((f) => f.stats.cold).length, 2, 'one cold call per worker');
      assert.equal(fexec.stats()[0]?.workerProcesses, 2);
      assert.match(fexec.summary(), /, 2 workers\n/);
    } finally {
      await fexec.close();
    }
  });
}

/** Call 0 leaves a timer that throws after it returned; call 1 is running when it fires. */
async function lateThrow(x: number, ctx: CallContext): Promise<number> {
  if (ctx.callId === 0) {
    setTimeout(() => {
      throw new Error('late failure from a timer');
    }, 50);
    return x;
  }
  await new Promise((r) => setTimeout(r, 2000));
  return x;
}

test('thread: an uncaught error fails the running call, named in its report; the result before it is kept', async () => {
  const fexec = await executor('thread', 1);
  try {
    const futures = await fexec.map(lateThrow, [1, 2]);
    const [first, second] = await fexec.getResult(futures, { throwOnError: false });
    assert.equal(first, 1, 'the call that returned before the thread died keeps its result');
    assert.ok(second instanceof WorkerCrashError, String(second));
    assert.match(second.message, /worker thread running call 1/);
    assert.match(second.message, /late failure from a timer/);
    assert.equal(futures[0]?.stats.attempt, 1);
    assert.equal(fexec.counters()['backend.crashed'] ?? 0, 1);
  } finally {
    await fexec.close();
  }
});

/** Changes the working folder: process-wide state, which a worker thread may not touch. */
function chdirRoot(): string {
  process.chdir('/');
  return process.cwd();
}

test('what each isolation allows (README, "Threads or processes"): process.chdir() and process.abort() fail a thread\'s call, chdir works in a process', async () => {
  const threads = await executor('thread', 1);
  const processes = await executor('process', 1);
  try {
    const [inThread] = await threads.getResult(await threads.map(chdirRoot, [0]), { throwOnError: false });
    assert.ok(inThread instanceof Error, `a thread cannot chdir: got ${String(inThread)}`);
    assert.match(inThread.message, /chdir|not supported in workers/i);
    assert.notEqual(process.cwd(), '/', "the client's own folder did not change");
    const [aborted] = await threads.getResult(await threads.map((_: number) => process.abort(), [0]), {
      throwOnError: false,
    });
    assert.ok(aborted instanceof Error && /abort|not supported in workers/i.test(aborted.message), String(aborted));
    assert.deepEqual(await processes.getResult(await processes.map(chdirRoot, [0])), ['/']);
  } finally {
    await threads.close();
    await processes.close();
  }
});

test("what each isolation allows: a call that SIGKILLs its own process takes a thread's whole script down, fails only the call in a process", async () => {
  const fixture = new URL('./fixtures/kill-call.ts', import.meta.url).pathname;
  const run = (isolation: string) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, isolation], {
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, BURST_FS_ROOT: roots[0] ?? tmpdir() },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.on('close', (code, signal) => resolve({ code, signal, out }));
    });
  const thread = await run('thread');
  assert.equal(thread.signal, 'SIGKILL', `the script died with the thread: ${JSON.stringify(thread)}`);
  const proc = await run('process');
  assert.equal(proc.code, 0);
  assert.deepEqual(JSON.parse(proc.out), { survived: true, error: 'WorkerCrashError' });
});

/** Writes a plain-success frame whose value is not V8's format to the side pipe (fd 4), then returns. */
function forgeFrame(): string {
  const { writeSync } = require('node:fs') as typeof import('node:fs');
  const b = Buffer.alloc(38 + 3);
  b[0] = 5; // FRAME_RESULT_OK
  b.writeUInt32LE(b.length - 5, 1);
  b[37] = 6; // a value in V8's format…
  b.set([0xff, 0x00, 0x7f], 38); // …that is not
  writeSync(4, b);
  return 'returned';
}

test('process: a frame the pool cannot decode stops that worker and fails its call as a crash that says why; the client lives on', async () => {
  const fexec = await executor('process', 1);
  try {
    const [forged] = await fexec.map(forgeFrame, [0], { retries: 0 });
    const err = await forged?.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkerCrashError, `a crash, not ${String(err)}`);
    assert.match(err.message, /could not decode a result from this worker/);
    // The next call gets a fresh worker and its result.
    assert.deepEqual(await fexec.getResult(await fexec.map((x: number) => x + 1, [1, 2])), [2, 3]);
  } finally {
    await fexec.close();
  }
});
