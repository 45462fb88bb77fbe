/**
 * Storage URIs, understood wherever Burst asks for a location:
 *
 * - `s3://bucket/key`: an object in S3 or an S3-compatible store (endpoint from options or env).
 * - `fs://bucket/key`: an object in the default local store (the fs driver's root, `~/.burst/storage`).
 * - `file:///abs/path` and plain paths (`./data/x.csv`, `/data/x.csv`): local files where they are.
 *   They map onto an fs driver rooted at `/`, whose bucket is the first path segment and whose key is
 *   the rest: `file:///home/ana/x.csv` is bucket `home`, key `ana/x.csv`; `/data` is the whole bucket
 *   `data`. So a file directly in `/` cannot be read as an object, and `..` segments are refused.
 * - `<driver>://bucket/key` for any other registered driver (e.g. `memory://`).
 *
 * Keys are taken literally (no percent-decoding) except in `file:` URLs, which are URLs.
 */
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, InvalidKeyError } from '../errors.js';
import type { StorageDriverOptions } from './storage.js';
import { assertPathSafeKey, assertValidBucket, assertValidKey, quoteName } from './keys.js';
import { createStorage } from './registry.js';
import type { StorageDriver } from './types.js';

/** A parsed storage URI. `key` is `''` when the URI names a whole bucket. */
export interface StorageLocation {
  /** `s3`, `fs`, `file`, or another registered driver name. */
  scheme: string;
  bucket: string;
  /** The key, or a key prefix (listing), possibly empty. */
  key: string;
}

/** Defaults used by {@link resolveStorageUri} to create drivers: options by driver name (`s3`, `fs`, …). */
export interface UriDefaults extends Partial<StorageDriverOptions> {
  /** Driver instances by scheme; they win over creating new ones (e.g. `{ s3: myS3 }`). */
  drivers?: Record<string, StorageDriver>;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is;

/** True when `value` is written as `scheme://...` (not a plain path). */
export function isStorageUri(value: string): boolean {
  return SCHEME.test(value);
}

/**
 * True when `value` is written as a local path the way `map` takes one: absolute (`/data/x.csv`) or
 * relative to the working folder (`./data/`, `../x`, `.`, `..`). `bucket/key` is not a local path.
 */
export function isLocalPath(value: string): boolean {
  return /^(\/|\.\.?(\/|$))/.test(value);
}

/**
 * Parses a storage URI or a plain local path.
 *
 * @throws ConfigError when the URI is empty, has no bucket, or a `file:` URL names another host.
 * @throws InvalidKeyError when the bucket or key is not valid.
 * @example
 * ```ts
 * parseStorageUri('s3://data/2024/logs.csv'); // { scheme: 's3', bucket: 'data', key: '2024/logs.csv' }
 * parseStorageUri('/home/ana/x.csv');         // { scheme: 'file', bucket: 'home', key: 'ana/x.csv' }
 * ```
 */
export function parseStorageUri(uri: string): StorageLocation {
  if (typeof uri !== 'string' || uri.trim() === '')
    throw new ConfigError(`storage URI must be a non-empty string, got ${JSON.stringify(uri)}`);
  const m = SCHEME.exec(uri);
  if (!m) return parseLocalPath(resolvePath(uri), uri);
  const scheme = (m[1] as string).toLowerCase();
  if (scheme === 'file') return parseFileUrl(uri);
  const rest = m[2] as string;
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '')
    throw new ConfigError(`storage URI ${quoteName(uri)} has no bucket (expected ${scheme}://bucket/key)`);
  assertValidBucket(bucket);
  if (key !== '') assertValidKey(bucket, key);
  return { scheme, bucket, key };
}

function parseFileUrl(uri: string): StorageLocation {
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (err) {
    throw new ConfigError(`invalid file URI ${quoteName(uri)}: ${(err as Error).message}`, { cause: err });
  }
  // fileURLToPath drops nothing we need, but keep a trailing slash: it marks a folder (a prefix).
  return parseLocalPath(path, uri);
}

function parseLocalPath(absolute: string, original: string): StorageLocation {
  const trailing = original.endsWith('/') && !absolute.endsWith('/') ? '/' : '';
  const parts = (absolute + trailing).split('/').slice(1); // drop the empty segment before the leading '/'
  const bucket = parts[0] ?? '';
  const key = parts.slice(1).join('/');
  if (bucket === '')
    throw new InvalidKeyError(`local path ${quoteName(original)} must name a file or folder below "/"`);
  assertValidBucket(bucket);
  if (key !== '') {
    assertValidKey(bucket, key);
    // A folder (a listing prefix) may end in '/'; the rest must be a safe relative path.
    const path = key.endsWith('/') ? key.slice(0, -1) : key;
    if (path !== '') assertPathSafeKey(bucket, path);
  }
  return { scheme: 'file', bucket, key };
}

/**
 * Formats a location back into a URI; `file` locations become `file:///...` URLs.
 *
 * @example
 * ```ts
 * formatStorageUri({ scheme: 's3', bucket: 'data', key: 'a.csv' }); // 's3://data/a.csv'
 * ```
 */
export function formatStorageUri(location: StorageLocation): string {
  const { scheme, bucket, key } = location;
  if (scheme === 'file') {
    const url = pathToFileURL(`/${bucket}/${key}`).href;
    return key.endsWith('/') && !url.endsWith('/') ? `${url}/` : url;
  }
  return `${scheme}://${bucket}${key === '' ? '' : `/${key}`}`;
}

/**
 * Parses a URI and returns a driver that can read it with the bucket and key to pass to it. Each call
 * creates a new driver unless `defaults.drivers` provides one for the scheme: callers that resolve
 * many URIs should pass their drivers in to reuse connections.
 *
 * @example
 * ```ts
 * const { driver, bucket, key } = await resolveStorageUri('s3://data/logs.csv', { s3: { endpoint } });
 * const head = await driver.head(bucket, key);
 * ```
 */
export async function resolveStorageUri(
  uri: string,
  defaults: UriDefaults = {},
): Promise<{ driver: StorageDriver; bucket: string; key: string }> {
  const { scheme, bucket, key } = parseStorageUri(uri);
  const given = defaults.drivers?.[scheme];
  if (given) return { driver: given, bucket, key };
  return { driver: await driverForScheme(scheme, defaults), bucket, key };
}

/** The driver a scheme maps to when none is given: `file` is an fs driver rooted at `/`. */
export async function driverForScheme(scheme: string, defaults: UriDefaults = {}): Promise<StorageDriver> {
  if (scheme === 'file') {
    const { root: _root, ...rest } = defaults.fs ?? {};
    return createStorage('fs', { ...rest, root: '/' });
  }
  const options = (defaults as Record<string, unknown>)[scheme];
  return createStorage(
    scheme,
    typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {},
  );
}
