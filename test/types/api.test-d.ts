/**
 * Type tests, checked by `tsc -p test/types` (part of `npm run typecheck`). Each `@ts-expect-error`
 * must fail to compile; if the API loosened to `any`, tsc reports the unused directive.
 */
import { Readable } from 'node:stream';
import {
  FunctionExecutor,
  type CallContext,
  type DataPartition,
  type Future,
  type FutureList,
  type ReduceItem,
  type StoredResult,
} from '../../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

declare const fexec: FunctionExecutor;
function addSeven(x: number): number {
  return x + 7;
}
async function fetchName(id: string, ctx: CallContext<{ prefix: string }>): Promise<string> {
  return `${ctx.args.prefix}${id}`;
}

export async function checks(): Promise<void> {
  const futures = await fexec.map(addSeven, [1, 2, 3]);
  expectType<Equal<typeof futures, FutureList<number>>>(true);
  const results = await fexec.getResult(futures);
  expectType<Equal<typeof results, number[]>>(true);
  const lenient = await fexec.getResult(futures, { throwOnError: false });
  expectType<Equal<typeof lenient, Array<number | Error>>>(true);

  // Promise-returning functions resolve to their value type.
  const names = await fexec.getResult(await fexec.map(fetchName, ['a'], { extraArgs: { prefix: 'p-' } }));
  expectType<Equal<typeof names, string[]>>(true);

  const one = await fexec.callAsync(addSeven, 1);
  expectType<Equal<typeof one, Future<number>>>(true);
  const value = await fexec.getResult(one);
  expectType<Equal<typeof value, number>>(true);

  const reduced = await fexec.mapReduce(addSeven, [1, 2], (xs: number[]) => xs.join(','));
  expectType<Equal<Awaited<ReturnType<typeof reduced.getResult>>, string[]>>(true);

  // ctx is typed.
  await fexec.map(
    (x: number, ctx) => {
      expectType<Equal<typeof ctx.callId, number>>(true);
      expectType<Equal<typeof ctx.signal, AbortSignal>>(true);
      return x;
    },
    [1],
  );

  // Data inputs: the function receives a DataPartition.
  const words = await fexec.map(
    async (part: DataPartition) => (await part.text()).split(/\s+/).length,
    's3://logs/2019/',
    { objChunkSize: 2 ** 26 },
  );
  expectType<Equal<typeof words, FutureList<number>>>(true);
  const perObject = await fexec.mapReduce(
    (part: DataPartition) => part.size,
    ['fs://data/a.csv'],
    (sizes: number[]) => sizes.length,
    { reducerOnePerObject: true },
  );
  expectType<Equal<typeof perObject, FutureList<number>>>(true);
  // @ts-expect-error a function of numbers cannot take data partitions
  await fexec.map(addSeven, 's3://logs/2019/');

  // A function that returns a stream yields a StoredResult.
  const streamed = await fexec.map(
    async function* (n: number) {
      yield Buffer.alloc(n);
    },
    [1],
  );
  expectType<Equal<typeof streamed, FutureList<StoredResult>>>(true);
  const readable = await fexec.callAsync((n: number) => Readable.from([Buffer.alloc(n)]), 1);
  expectType<Equal<typeof readable, Future<StoredResult>>>(true);
  const stored = await fexec.getResult(streamed);
  expectType<Equal<typeof stored, StoredResult[]>>(true);

  // Chaining: futures.map takes a function of the results; futures are inputs too.
  const chained = await futures.map((x: number) => String(x));
  expectType<Equal<typeof chained, FutureList<string>>>(true);
  const fromFuture = await fexec.callAsync(addSeven, one);
  expectType<Equal<typeof fromFuture, Future<number>>>(true);
  await fexec.map(addSeven, [1, one, 3]);
  const streamedReduce = await fexec.mapReduce(
    addSeven,
    [1, 2],
    async (items: AsyncIterable<ReduceItem<number>>) => {
      let n = 0;
      for await (const { index, value } of items) n += index + value;
      return n;
    },
    { streamReduce: true },
  );
  expectType<Equal<typeof streamedReduce, FutureList<number>>>(true);
  const chainedReduce = await futures.mapReduce(addSeven, (xs: number[]) => xs.length);
  expectType<Equal<typeof chainedReduce, FutureList<number>>>(true);
  // @ts-expect-error the chained function takes the results (numbers), not futures
  futures.map((f: Future<number>) => f.callId);
  // @ts-expect-error a future of the wrong type is a compile error
  await fexec.callAsync(addSeven, await fexec.callAsync(fetchName, 'a'));

  // @ts-expect-error an input of the wrong type is a compile error
  await fexec.map(addSeven, ['one', 'two']);
  // @ts-expect-error callAsync checks its input too
  await fexec.callAsync(addSeven, 'one');
  // @ts-expect-error extraArgs must match what the function reads from ctx.args
  await fexec.map(fetchName, ['a'], { extraArgs: { prefix: 42 } });
  // @ts-expect-error the reducer must accept the map results
  await fexec.mapReduce(addSeven, [1], (xs: string[]) => xs.length);
  // @ts-expect-error options are checked
  new FunctionExecutor({ workers: 'two' });

  // The serverless sections are typed: backend and runtime options side by side.
  new FunctionExecutor({
    backend: 'knative',
    knative: { url: 'https://w.example', concurrency: 8, image: 'ghcr.io/me/w:1', namespace: 'jobs' },
  });
  new FunctionExecutor({
    backend: 'aws_lambda',
    aws_lambda: { region: 'eu-west-1', invokeConcurrency: 64, remoteInvoker: true },
  });
  // @ts-expect-error a misspelt option is caught
  new FunctionExecutor({ backend: 'knative', knative: { ulr: 'https://w.example' } });
  // @ts-expect-error and so is a wrong type
  new FunctionExecutor({ backend: 'aws_lambda', aws_lambda: { invokeConcurrency: 'many' } });
}
