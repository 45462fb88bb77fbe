/**
 * Validation of bucket names and object keys shared by every driver, and the key order of listings.
 * Everything here runs before any I/O, so a bad name is refused without touching the store.
 */
import { InvalidKeyError } from '../errors.js';

/** S3's limit on the UTF-8 length of a key. */
export const MAX_KEY_BYTES = 1024;
/** The usual limit on one file name (NAME_MAX), which bounds bucket names and fs key segments. */
export const MAX_SEGMENT_BYTES = 255;
/** Names of the fs driver's in-flight temp files; keys may not use them so listings can skip them. */
export const TEMP_PREFIX = '.burst-tmp-';

/** A name shortened and escaped for error messages (keys may be 1 KiB of control characters). */
export function quoteName(name: string): string {
  const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
  return JSON.stringify(shown);
}

/**
 * Refuses bucket names no driver can hold: empty, over 255 bytes, containing `/`, `\`, NUL or other
 * control characters, or `.`/`..`. Drivers may add stricter rules.
 */
export function assertValidBucket(bucket: unknown): asserts bucket is string {
  if (typeof bucket !== 'string') throw new InvalidKeyError(`bucket name must be a string, got ${typeof bucket}`);
  const why = bucketProblem(bucket);
  if (why) throw new InvalidKeyError(`invalid bucket name ${quoteName(bucket)}: ${why}`, { bucket });
}

function bucketProblem(bucket: string): string | undefined {
  if (bucket === '') return 'must not be empty';
  if (Buffer.byteLength(bucket) > MAX_SEGMENT_BYTES) return `must be at most ${MAX_SEGMENT_BYTES} bytes`;
  if (bucket === '.' || bucket === '..') return 'must not be "." or ".."';
  if (/[/\\]/.test(bucket)) return 'must not contain "/" or "\\"';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this check refuses
  if (/[\u0000-\u001f\u007f]/.test(bucket)) return 'must not contain control characters';
  if (bucket.startsWith(TEMP_PREFIX)) return `must not start with "${TEMP_PREFIX}"`;
  return undefined;
}

/** Refuses keys no driver can hold: not a string, empty, containing NUL, or over 1,024 UTF-8 bytes. */
export function assertValidKey(bucket: string, key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(`key must be a string, got ${typeof key}`, { bucket });
  let why: string | undefined;
  if (key === '') why = 'must not be empty';
  else if (key.includes('\0')) why = 'must not contain NUL bytes';
  else if (Buffer.byteLength(key) > MAX_KEY_BYTES) why = `must be at most ${MAX_KEY_BYTES} bytes of UTF-8`;
  if (why)
    throw new InvalidKeyError(`invalid key ${quoteName(key)} in bucket ${quoteName(bucket)}: ${why}`, { bucket, key });
}

/** Refuses a list prefix or startAfter that is not a string or contains NUL. Empty is allowed. */
export function assertValidPrefix(bucket: string, prefix: unknown, what = 'prefix'): asserts prefix is string {
  if (typeof prefix !== 'string')
    throw new InvalidKeyError(`${what} must be a string, got ${typeof prefix}`, { bucket });
  if (prefix.includes('\0')) {
    throw new InvalidKeyError(
      `invalid ${what} ${quoteName(prefix)} in bucket ${quoteName(bucket)}: must not contain NUL bytes`,
      { bucket },
    );
  }
}

/**
 * The extra rules of drivers that map keys to file paths: a key must be a relative path that stays
 * inside its bucket folder. Refuses absolute keys, `.`/`..`/empty segments (so also a trailing `/`),
 * backslashes (Windows separators), segments over 255 bytes and the temp file prefix.
 */
export function assertPathSafeKey(bucket: string, key: string): void {
  const why = pathKeyProblem(key);
  if (why)
    throw new InvalidKeyError(`invalid key ${quoteName(key)} in bucket ${quoteName(bucket)}: ${why}`, { bucket, key });
}

function pathKeyProblem(key: string): string | undefined {
  if (key.startsWith('/')) return 'must be a relative path (it starts with "/")';
  if (key.includes('\\')) return 'must not contain "\\"';
  for (const segment of key.split('/')) {
    if (segment === '') return 'must not contain empty path segments ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return `must not contain "${segment}" path segments`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      return `path segments must be at most ${MAX_SEGMENT_BYTES} bytes`;
    if (segment.startsWith(TEMP_PREFIX)) return `path segments must not start with "${TEMP_PREFIX}"`;
  }
  return undefined;
}

/**
 * Orders keys as S3 does: by UTF-8 bytes, which is code point order. Plain `<` on JS strings compares
 * UTF-16 units and differs when a surrogate pair meets a character in U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate && (xSurrogate ? y >= 0xe000 : x >= 0xe000)) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
