/**
 * Chaining, futures as inputs and streaming reduce, run on each backend against real workers
 * (issue 17). The client's storage driver is wrapped to count what the client downloads, so "the
 * results never pass through the client" is checked by counting, not by looking at the results.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FunctionExecutor,
  Storage,
  UpstreamError,
  createStorage,
  type ExecutorOptions,
  type StorageDriver,
} from '../../src/index.ts';
import {
  addOne,
  addOneMarked,
  bigArray,
  chunkBytes,
  describePair,
  failOnThree,
  gatedNumber,
  readStored,
  sleepThen,
  square,
  streamKiB,
  sumArray,
  sumItems,
  sumStream,
  sumStreamMarked,
} from '../fixtures/chain-tasks.ts';

/** Options of {@link chainSuite}. */
export interface ChainSuiteOptions {
  /** Executor options that select the backend and storage under test (storage by name and section). */
  options: () => ExecutorOptions | Promise<ExecutorOptions>;
  /** True when jobs go through storage (every backend but localhost's IPC channel). */
  storageChannel: boolean;
  skip?: () => Promise<string | undefined>;
  cleanup?: () => Promise<void>;
  /** Only the chained map counted by downloads and the streaming reducer (a backend whose other paths another run covers). */
  lean?: boolean;
}

/** Downloads of objects by the client, by key. */
interface Downloads {
  keys: string[];
  bytes: number;
}

/** The driver with every download (get, getStream) counted; the driver itself is real. */
function counting(driver: StorageDriver, seen: Downloads): StorageDriver {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'get')
        return async (bucket: string, key: string, o?: unknown) => {
          const bytes = await (v as StorageDriver['get']).call(target, bucket, key, o as never);
          seen.keys.push(key);
          seen.bytes += bytes.length;
          return bytes;
        };
      if (prop === 'getStream')
        return (bucket: string, key: string, o?: unknown) => {
          seen.keys.push(key);
          return (v as StorageDriver['getStream']).call(target, bucket, key, o as never);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export function chainSuite(name: string, suite: ChainSuiteOptions): void {
  describe(`chaining: ${name}`, () => {
    let fexec: FunctionExecutor;
    let store: Storage;
    let driverName: string;
    let skipReason: string | undefined;
    const seen: Downloads = { keys: [], bytes: 0 };
    /** Output objects of `jobId` the client downloaded. */
    const outputsRead = (jobId: string): string[] => seen.keys.filter((k) => k.includes(`/${jobId}/output/`));

    before(async () => {
      skipReason = await suite.skip?.();
      if (skipReason) return;
      const base = await suite.options();
      driverName = typeof base.storage === 'string' ? base.storage : 'fs';
      const section = (base as Record<string, unknown>)[driverName] as Record<string, unknown> | undefined;
      const driver = await createStorage(driverName, section);
      fexec = new FunctionExecutor({ ...base, storage: counting(driver, seen) });
      store = new Storage({ driver: driverName, options: { ...section } });
    });
    after(async () => {
      await fexec?.close();
      await store?.close();
      await suite.cleanup?.();
    });
    const it = (title: string, fn: () => Promise<void>, full = false): void => {
      if (full && suite.lean) return;
      test(title, { timeout: 240_000 }, async (t) => {
        if (skipReason) return t.skip(skipReason);
        await fn();
      });
    };
    const fresh = (what: string): string => `chain-${what}/${randomUUID()}`;

    it('futures.map runs the next job over the results, which the client never downloads', async () => {
      const first = await fexec.map(bigArray, [1, 2, 3]);
      const second = await first.map(sumArray);
      const expected = [1, 2, 3].map((n) => 20_000 * n + (20_000 * 19_999) / 2);
      assert.deepEqual(await second.getResult(), expected);
      const upstream = first[0]?.jobId as string;
      if (suite.storageChannel) {
        assert.deepEqual(outputsRead(upstream), [], 'no output object of the first job was read by the client');
        // The counter sees downloads: reading the first job's results fetches its three outputs.
        assert.equal((await first.getResult())[2]?.length, 20_000);
        assert.equal(outputsRead(upstream).length, 3);
      }
    });

    it(
      'a future is an input anywhere: alone, in a list with values, inside an object',
      async () => {
        const five = await fexec.callAsync(square, 5);
        // Both jobs go out once `five` has settled, side by side.
        const [mixed, again] = await Promise.all([
          // A future inside an object: TypeScript types only top-level futures, hence the cast.
          fexec.map(describePair, [
            { label: 'a', value: 1 },
            { label: 'x', value: five as unknown as number },
          ]),
          fexec.callAsync(addOne, five),
        ]);
        assert.deepEqual(await mixed.getResult(), ['a=1', 'x=25']);
        assert.equal(await again.result(), 26);
        const list = await fexec.map(addOne, [1, five, 3]);
        assert.deepEqual(await list.getResult(), [2, 26, 4]);
      },
      true,
    );

    it(
      'an upstream failure fails the downstream call with an UpstreamError naming both; the call never runs',
      async () => {
        const runs = fresh('runs');
        const first = await fexec.map(failOnThree, [1, 3]);
        const second = await first.map(addOneMarked, { extraArgs: { runs } });
        const [ok, failed] = await second.getResult({ throwOnError: false });
        assert.equal(ok, 2);
        assert.ok(failed instanceof UpstreamError, `got ${String(failed)}`);
        assert.equal(failed.code, 'UPSTREAM_FAILED');
        assert.equal(failed.jobId, second[1]?.jobId);
        assert.equal(failed.callId, 1);
        assert.equal(failed.upstreamJobId, first[1]?.jobId);
        assert.equal(failed.upstreamCallId, 1);
        assert.equal(failed.upstreamCode, 'REMOTE_ERROR');
        assert.match(failed.message, /three is not allowed/);
        assert.deepEqual(await store.listKeys(fexec.options.bucket, `${runs}/`), [`${runs}/0`], 'only call 0 ran');
      },
      true,
    );

    it(
      'mapReduce on a FutureList: the reducer reads the map results from storage',
      async () => {
        const first = await fexec.map(bigArray, [1, 2]);
        const reduced = await first.mapReduce(sumArray, sumArray);
        const expected = [1, 2].reduce((s, n) => s + 20_000 * n + (20_000 * 19_999) / 2, 0);
        assert.deepEqual(await reduced.getResult(), [expected]);
        if (suite.storageChannel) assert.deepEqual(outputsRead(first[0]?.jobId as string), []);
      },
      true,
    );

    it(
      'a streamed result feeds the next job as a stored result the worker reads',
      async () => {
        const first = await fexec.map(streamKiB, [70]);
        const second = await first.map(readStored);
        assert.deepEqual(await second.getResult(), [`${70 * 1024}:${70 * 1024}:70`]);
        if (suite.storageChannel) assert.deepEqual(outputsRead(first[0]?.jobId as string), []);
      },
      true,
    );

    // On the storage channel the gated test below shows the same, and that it streams.
    if (!suite.storageChannel)
      it('streamReduce gives the reducer an async iterable of { index, value } in completion order', async () => {
        const [r] = await (await fexec.mapReduce(sleepThen, [30, 1, 2], sumStream, { streamReduce: true })).getResult();
        assert.equal(r?.sum, 33);
        assert.equal(r?.iterable, true);
        assert.deepEqual([...(r?.order ?? [])].sort(), [0, 1, 2]);
      });

    if (suite.storageChannel)
      it('streamReduce: the reducer gets results while a map call is still running', async () => {
        const gates = fresh('gates');
        const marks = fresh('marks');
        const reduced = await fexec.mapReduce(
          gatedNumber,
          [{ n: 1 }, { n: 2 }, { n: 3, gate: 'last' }],
          sumStreamMarked,
          { streamReduce: true, extraArgs: { gates, marks }, chunksize: 1 },
        );
        // Two results reached the reducer while the third map call waits on a gate only we open.
        for (let i = 0; i < 1500 && !(await store.exists(fexec.options.bucket, `${marks}/got-2`)); i++)
          await new Promise((r) => setTimeout(r, 100));
        assert.ok(await store.exists(fexec.options.bucket, `${marks}/got-2`), 'the reducer got two results');
        assert.equal(await store.exists(fexec.options.bucket, `${marks}/got-3`), false);
        assert.equal(reduced[0]?.done, false);
        await store.put(fexec.options.bucket, `${gates}/last`, 'open');
        const [r] = await reduced.getResult();
        assert.equal(r?.sum, 6);
        assert.equal(r?.order[2], 2, 'the gated call came last');
      });

    it(
      'streamReduce with reducerOnePerObject: one streaming reducer per object',
      async () => {
        const prefix = fresh('data');
        await store.put(fexec.options.bucket, `${prefix}/a.bin`, Buffer.alloc(3000, 1));
        await store.put(fexec.options.bucket, `${prefix}/b.bin`, Buffer.alloc(5000, 2));
        const uri = (k: string): string => `${driverName}://${fexec.options.bucket}/${prefix}/${k}`;
        const reduced = await fexec.mapReduce(chunkBytes, [uri('a.bin'), uri('b.bin')], sumItems, {
          streamReduce: true,
          reducerOnePerObject: true,
          objChunkNumber: 3,
        });
        assert.deepEqual(await reduced.getResult(), [3000, 5000]);
      },
      true,
    );
  });
}
