/**
 * Maps Node file system errors to Burst storage errors for the fs driver.
 */
import { BurstError, StorageAuthError, StorageError } from '../../errors.js';
import { quoteName } from '../keys.js';

/** True when `err` is a Node system error with one of `codes`. */
export function isCode(err: unknown, ...codes: string[]): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}

/**
 * A Burst error for a failed file operation: permission problems become {@link StorageAuthError}, a
 * full disk `NO_SPACE`, anything else `FS_ERROR`. Burst errors pass through unchanged.
 */
export function fsError(err: unknown, op: string, bucket: string, key?: string): BurstError {
  if (err instanceof BurstError) return err;
  const where =
    key === undefined ? `bucket ${quoteName(bucket)}` : `object ${quoteName(key)} in bucket ${quoteName(bucket)}`;
  const detail = err instanceof Error ? err.message : String(err);
  const context = { bucket, cause: err, ...(key === undefined ? {} : { key }) };
  if (isCode(err, 'EACCES', 'EPERM', 'EROFS'))
    return new StorageAuthError(`${op} of ${where} was refused: ${detail}`, context);
  if (isCode(err, 'ENOSPC', 'EDQUOT'))
    return new StorageError('NO_SPACE', `${op} of ${where} failed: ${detail}`, context);
  return new StorageError('FS_ERROR', `${op} of ${where} failed: ${detail}`, context);
}
