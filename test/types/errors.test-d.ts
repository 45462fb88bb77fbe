/**
 * Type tests of error codes, checked by `tsc -p test/types` (part of `npm run typecheck`): `instanceof`
 * narrows `code` to the class's union, a switch over `BurstErrorCode` is exhaustive, and a code of
 * another class or a typo does not compile.
 */
import {
  BurstError,
  CancelledError,
  ConfigError,
  NoSuchKeyError,
  PartitionError,
  StorageError,
  type BurstErrorCode,
  type CancelledErrorCode,
  type ErrorContext,
  type PartitionErrorCode,
  type StorageErrorCode,
} from '../../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

export function checks(err: unknown): string {
  if (err instanceof NoSuchKeyError) expectType<Equal<typeof err.code, 'NO_SUCH_KEY'>>(true);
  if (err instanceof StorageError) expectType<Equal<typeof err.code, StorageErrorCode>>(true);
  if (err instanceof CancelledError) expectType<Equal<typeof err.code, CancelledErrorCode>>(true);
  if (err instanceof ConfigError) expectType<Equal<typeof err.code, 'CONFIG'>>(true);
  if (err instanceof PartitionError) expectType<Equal<typeof err.code, PartitionErrorCode>>(true);
  expectType<Equal<ErrorContext['callId'], number | undefined>>(true);

  // @ts-expect-error a typo is not a code
  new StorageError('NO_SUCH_KYE', 'x');
  // @ts-expect-error a code of another class is not a storage code
  new StorageError('TIMEOUT', 'x');
  // @ts-expect-error callId is a number
  new ConfigError('x', { callId: '3' });

  if (!(err instanceof BurstError)) return 'other';
  expectType<Equal<typeof err.code, BurstErrorCode>>(true);
  // @ts-expect-error codes are a closed union
  if (err.code === 'NOT_A_CODE') return 'never';
  return describe(err.code);
}

function describe(code: BurstErrorCode): string {
  switch (code) {
    case 'NO_SUCH_KEY':
    case 'NO_SUCH_BUCKET':
      return 'missing';
    case 'TIMEOUT':
      return 'slow';
    default: {
      const rest: Exclude<BurstErrorCode, 'NO_SUCH_KEY' | 'NO_SUCH_BUCKET' | 'TIMEOUT'> = code;
      return rest;
    }
  }
}
