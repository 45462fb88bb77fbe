/**
 * Type tests of the storage driver options (issue 20): `ExecutorOptions.fs`/`s3` carry each driver's
 * typed options, derived from `StorageDriverOptions`, so a misspelt or mistyped option is a compile
 * error, and `new Storage({ driver })` takes the same options.
 */
import { FunctionExecutor, Storage, type ExecutorOptions, type FsOptions, type S3Options } from '../../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

export function checks(): void {
  expectType<Equal<NonNullable<ExecutorOptions['s3']>, S3Options>>(true);
  expectType<Equal<NonNullable<ExecutorOptions['fs']>, FsOptions>>(true);
  new FunctionExecutor({
    storage: 's3',
    s3: { endpoint: 'http://127.0.0.1:7480', partSize: 8 * 2 ** 20, signPayload: false },
  });
  new FunctionExecutor({ fs: { root: '/data/burst', shared: true } });
  // @ts-expect-error a misspelt s3 option is caught
  new FunctionExecutor({ s3: { endpointt: 'x' } });
  // @ts-expect-error and so is a wrong type
  new FunctionExecutor({ s3: { maxAttempts: 'five' } });
  // @ts-expect-error fs options too
  new FunctionExecutor({ fs: { roott: '/x' } });
  new Storage({ driver: 's3', endpoint: 'http://127.0.0.1:7480', defaultBucket: 'b' });
}
