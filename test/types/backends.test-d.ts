/**
 * Type tests of the backend factories and sections (checked by `tsc -p test/types`): each is typed
 * with its backend's options, and a third-party backend's section is typed through declaration
 * merging of BackendOptionsMap.
 */
import {
  awsLambda,
  FunctionExecutor,
  localhost,
  slurm,
  type BackendOptionsOf,
  type ExecutorOptions,
  type SlurmOptions,
  defineBackend,
} from '../../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

const tiny = defineBackend({
  name: 'tiny_types',
  summary: 'a type test',
  options: (z) => z.object({ lanes: z.number().optional() }),
  create: async () => {
    throw new Error('never created');
  },
});

declare module '../../src/index.ts' {
  interface BackendOptionsMap {
    tiny_types: BackendOptionsOf<typeof tiny>;
  }
}

export function checks(): void {
  new FunctionExecutor({ backend: slurm({ partition: 'gpu', cpusPerTask: 4 }) });
  new FunctionExecutor({ backend: awsLambda({ region: 'eu-west-1', memory: 2048 }) });
  new FunctionExecutor({ backend: localhost({ channel: 'storage' }) });
  new FunctionExecutor({ backend: 'slurm', slurm: { partition: 'gpu' } });
  // @ts-expect-error a misspelt option of the factory
  slurm({ partiton: 'gpu' });
  // @ts-expect-error a wrong type in the factory
  slurm({ cpusPerTask: '4' });
  // @ts-expect-error not a channel
  localhost({ channel: 'pigeon' });
  // @ts-expect-error a wrong type in a section
  new FunctionExecutor({ slurm: { maxConcurrency: 'lots' } });
  expectType<Equal<NonNullable<ExecutorOptions['slurm']>, SlurmOptions>>(true);
  // A third-party section, through declaration merging.
  expectType<Equal<NonNullable<ExecutorOptions['tiny_types']>, { lanes?: number | undefined }>>(true);
  // @ts-expect-error a wrong type in the third-party section
  new FunctionExecutor({ tiny_types: { lanes: 'two' } });
}
