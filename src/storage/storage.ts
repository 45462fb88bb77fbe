/**
 * `Storage`: the user-facing handle on object storage, for scripts and, as `ctx.storage`, inside tasks.
 * It wraps one driver (created lazily on first use) and adds conveniences: URIs instead of bucket + key,
 * text and JSON helpers, key arrays and prefix deletes.
 */
import type { Readable } from 'node:stream';
import { ConfigError, StorageError } from '../errors.js';
import type { FsOptions } from './fs/driver.js';
import { assertValidBucket } from './keys.js';
import type { MemoryOptions } from './memory/driver.js';
import { createStorage, isStorageDriver } from './registry.js';
import type { S3Options } from './s3/driver.js';
import { StorageBucket } from './storage-bucket.js';
import type {
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectInfo,
  PutOptions,
  StorageBody,
  StorageConfig,
  StorageDriver,
} from './types.js';
import { driverForScheme, isStorageUri, parseStorageUri, type UriDefaults } from './uri.js';

/** Driver options by backend name; other drivers may add theirs by declaration merging. */
export interface StorageBackendOptions {
  fs: FsOptions;
  memory: MemoryOptions;
  s3: S3Options;
}

/** Options every {@link Storage} accepts besides its backend's own. */
export interface CommonStorageOptions {
  /**
   * The bucket of {@link Storage.bucket} when called without a name (inside a task: the executor's).
   * @default undefined
   */
  defaultBucket?: string;
  /**
   * Options of drivers created for URIs of other schemes (e.g. `s3://` read through an fs Storage).
   * @default {}
   */
  uriDefaults?: UriDefaults;
}

/** Options of `new Storage(...)`: a backend name and that backend's options. */
export type StorageOptions =
  | { [K in keyof StorageBackendOptions]: { backend: K } & StorageBackendOptions[K] & CommonStorageOptions }[keyof StorageBackendOptions]
  | ({ backend: string } & CommonStorageOptions & Record<string, unknown>);

type Target = { driver: StorageDriver; bucket: string; key: string };

/**
 * Object storage for user code. Every method takes either `(bucket, key, ...)` or one URI such as
 * `s3://bucket/key`, `fs://bucket/key` or `file:///path` (a bucket name never contains `://`).
 * Construction is cheap: the driver (and its SDK) loads on first use.
 *
 * @example
 * ```ts
 * const storage = new Storage({ backend: 's3', endpoint: 'http://127.0.0.1:7480' });
 * await storage.putJson('s3://results/run-1/summary.json', { ok: true });
 * const summary = await storage.getJson('s3://results/run-1/summary.json');
 * const keys = await storage.listKeys('results', 'run-1/');
 * ```
 * @example
 * ```ts
 * // Inside a task: the executor's storage, with its bucket as the default.
 * const lines = (await ctx.storage.getText('s3://data/input.csv')).split('\n');
 * await ctx.storage.bucket().put(`out/${ctx.callId}.txt`, lines.length.toString());
 * ```
 */
export class Storage {
  /** The bucket {@link Storage.bucket} uses without an argument. */
  readonly defaultBucket: string | undefined;
  private readonly spec: StorageDriver | StorageConfig;
  private readonly uriDefaults: UriDefaults;
  private driverPromise: Promise<StorageDriver> | undefined;
  private readonly schemeDrivers = new Map<string, Promise<StorageDriver>>();

  /** @param options a backend name with its options, a driver instance, or a driver's `config`; default the fs driver. */
  constructor(options: StorageOptions | StorageDriver | StorageConfig = { backend: 'fs' }) {
    if (isStorageDriver(options)) {
      this.spec = options;
      this.defaultBucket = undefined;
      this.uriDefaults = {};
      this.driverPromise = Promise.resolve(options);
      return;
    }
    if (typeof options !== 'object' || options === null) throw new ConfigError('Storage options must be an object');
    if ('driver' in options && typeof options.driver === 'string' && !('backend' in options)) {
      this.spec = options as StorageConfig;
      this.defaultBucket = undefined;
      this.uriDefaults = {};
      return;
    }
    const { backend, defaultBucket, uriDefaults, ...driverOptions } = options as { backend?: unknown } & CommonStorageOptions & Record<string, unknown>;
    if (typeof backend !== 'string' || backend === '') {
      throw new ConfigError(`Storage backend must be a driver name such as "fs" or "s3", got ${JSON.stringify(backend)}`, { keyPath: 'backend' });
    }
    if (defaultBucket !== undefined) assertValidBucket(defaultBucket);
    this.defaultBucket = defaultBucket;
    this.uriDefaults = uriDefaults ?? {};
    this.spec = { driver: backend, options: driverOptions };
  }

  /** The driver behind this storage (created on first call). */
  driver(): Promise<StorageDriver> {
    this.driverPromise ??= createStorage(this.spec);
    return this.driverPromise;
  }

  /** The name of the backend driver, known without loading it. */
  get backend(): string {
    return isStorageDriver(this.spec) ? this.spec.name : this.spec.driver;
  }

  /** A handle on one bucket whose methods take keys only; `name` defaults to {@link defaultBucket}. */
  bucket(name: string | undefined = this.defaultBucket): StorageBucket {
    if (name === undefined) throw new ConfigError('Storage.bucket() needs a bucket name: this storage has no defaultBucket');
    assertValidBucket(name);
    return new StorageBucket(this, name);
  }

  /** Resolves `(uri)` or `(bucket, key)` to a driver, bucket and key. */
  private async target(first: string, key: string | undefined): Promise<Target> {
    if (key !== undefined || !isStorageUri(first)) return { driver: await this.driver(), bucket: first, key: key ?? '' };
    const location = parseStorageUri(first);
    return { driver: await this.driverFor(location.scheme), bucket: location.bucket, key: location.key };
  }

  private driverFor(scheme: string): Promise<StorageDriver> {
    if (scheme === this.backend) return this.driver();
    let d = this.schemeDrivers.get(scheme);
    if (!d) {
      d = driverForScheme(scheme, this.uriDefaults);
      this.schemeDrivers.set(scheme, d);
      d.catch(() => this.schemeDrivers.delete(scheme));
    }
    return d;
  }

  /** Stores an object. */
  put(uri: string, body: StorageBody, options?: PutOptions): Promise<{ etag?: string }>;
  put(bucket: string, key: string, body: StorageBody, options?: PutOptions): Promise<{ etag?: string }>;
  async put(a: string, b: string | StorageBody, c?: StorageBody | PutOptions, d?: PutOptions): Promise<{ etag?: string }> {
    if (isStorageUri(a)) {
      const t = await this.target(a, undefined);
      return t.driver.put(t.bucket, t.key, b, c as PutOptions | undefined);
    }
    return (await this.driver()).put(a, b as string, c as StorageBody, d);
  }

  /** Reads an object (or a byte range of it) as bytes. */
  get(uri: string, options?: GetOptions): Promise<Uint8Array>;
  get(bucket: string, key: string, options?: GetOptions): Promise<Uint8Array>;
  async get(a: string, b?: string | GetOptions, c?: GetOptions): Promise<Uint8Array> {
    const [key, options] = typeof b === 'string' ? [b, c] : [undefined, b];
    const t = await this.target(a, key);
    return t.driver.get(t.bucket, t.key, options);
  }

  /** Reads an object (or a byte range of it) as a stream. */
  getStream(uri: string, options?: GetOptions): Promise<Readable>;
  getStream(bucket: string, key: string, options?: GetOptions): Promise<Readable>;
  async getStream(a: string, b?: string | GetOptions, c?: GetOptions): Promise<Readable> {
    const [key, options] = typeof b === 'string' ? [b, c] : [undefined, b];
    const t = await this.target(a, key);
    return t.driver.getStream(t.bucket, t.key, options);
  }

  /** Reads an object as UTF-8 text. */
  getText(uri: string): Promise<string>;
  getText(bucket: string, key: string): Promise<string>;
  async getText(a: string, b?: string): Promise<string> {
    const t = await this.target(a, b);
    return Buffer.from(await t.driver.get(t.bucket, t.key)).toString('utf8');
  }

  /** Reads an object as JSON. */
  getJson<T = unknown>(uri: string): Promise<T>;
  getJson<T = unknown>(bucket: string, key: string): Promise<T>;
  async getJson<T = unknown>(a: string, b?: string): Promise<T> {
    const t = await this.target(a, b);
    const text = Buffer.from(await t.driver.get(t.bucket, t.key)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new StorageError('INVALID_JSON', `object "${t.key}" in bucket "${t.bucket}" is not valid JSON: ${(err as Error).message}`, {
        bucket: t.bucket,
        key: t.key,
        cause: err,
      });
    }
  }

  /** Stores a value as JSON (`application/json`). */
  putJson(uri: string, value: unknown): Promise<{ etag?: string }>;
  putJson(bucket: string, key: string, value: unknown): Promise<{ etag?: string }>;
  async putJson(a: string, ...rest: unknown[]): Promise<{ etag?: string }> {
    const uri = isStorageUri(a) && rest.length === 1;
    const t = await this.target(a, uri ? undefined : (rest[0] as string));
    const value = uri ? rest[0] : rest[1];
    const text = JSON.stringify(value);
    if (text === undefined) throw new StorageError('INVALID_JSON', `cannot store ${typeof value} as JSON in object "${t.key}"`, { bucket: t.bucket, key: t.key });
    return t.driver.put(t.bucket, t.key, text, { contentType: 'application/json' });
  }

  /** Size, etag and last modified of an object. */
  head(uri: string): Promise<ObjectInfo>;
  head(bucket: string, key: string): Promise<ObjectInfo>;
  async head(a: string, b?: string): Promise<ObjectInfo> {
    const t = await this.target(a, b);
    return t.driver.head(t.bucket, t.key);
  }

  /** Whether an object exists. */
  exists(uri: string): Promise<boolean>;
  exists(bucket: string, key: string): Promise<boolean>;
  async exists(a: string, b?: string): Promise<boolean> {
    const t = await this.target(a, b);
    return t.driver.exists(t.bucket, t.key);
  }

  /** Objects (and, with a delimiter, common prefixes) under a prefix, in key order. */
  list(uri: string, options?: ListOptions): AsyncIterable<ListEntry>;
  list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry>;
  list(a: string, b?: string | ListOptions, c?: ListOptions): AsyncIterable<ListEntry> {
    const [prefix, options] = typeof b === 'string' ? [b, c] : [undefined, b];
    const target = () => (prefix === undefined && isStorageUri(a) ? this.target(a, undefined) : this.target(a, prefix ?? ''));
    return {
      async *[Symbol.asyncIterator]() {
        const t = await target();
        yield* t.driver.list(t.bucket, t.key, options);
      },
    };
  }

  /** The keys of all objects under a prefix, as an array (for listings that fit in memory). */
  listKeys(uri: string, options?: ListOptions): Promise<string[]>;
  listKeys(bucket: string, prefix?: string, options?: ListOptions): Promise<string[]>;
  async listKeys(a: string, b?: string | ListOptions, c?: ListOptions): Promise<string[]> {
    const keys: string[] = [];
    for await (const e of this.list(a, b as string, c)) if (!('prefix' in e)) keys.push(e.key);
    return keys;
  }

  /** Deletes one object (by URI) or many keys of a bucket; missing ones are not an error. */
  delete(uri: string): Promise<void>;
  delete(bucket: string, keys: string | Iterable<string> | AsyncIterable<string>): Promise<void>;
  async delete(a: string, keys?: string | Iterable<string> | AsyncIterable<string>): Promise<void> {
    if (keys === undefined) {
      const t = await this.target(a, undefined);
      return t.driver.delete(t.bucket, [t.key]);
    }
    return (await this.driver()).delete(a, typeof keys === 'string' ? [keys] : keys);
  }

  /** Deletes every object under a prefix; returns how many were deleted. */
  deletePrefix(uri: string): Promise<number>;
  deletePrefix(bucket: string, prefix: string): Promise<number>;
  async deletePrefix(a: string, b?: string): Promise<number> {
    const t = await this.target(a, b);
    let batch: string[] = [];
    let count = 0;
    for await (const e of t.driver.list(t.bucket, t.key)) {
      if ('prefix' in e) continue;
      batch.push(e.key);
      if (batch.length === 1000) {
        await t.driver.delete(t.bucket, batch);
        count += batch.length;
        batch = [];
      }
    }
    await t.driver.delete(t.bucket, batch);
    return count + batch.length;
  }

  /** Creates a bucket (no error if it exists and is yours). */
  async createBucket(bucketOrUri: string): Promise<void> {
    const t = await this.target(bucketOrUri, isStorageUri(bucketOrUri) ? undefined : '');
    return t.driver.createBucket(t.bucket);
  }

  /** Deletes an empty bucket. */
  async deleteBucket(bucketOrUri: string): Promise<void> {
    const t = await this.target(bucketOrUri, isStorageUri(bucketOrUri) ? undefined : '');
    return t.driver.deleteBucket(t.bucket);
  }

  /** Whether a bucket exists. */
  async bucketExists(bucketOrUri: string): Promise<boolean> {
    const t = await this.target(bucketOrUri, isStorageUri(bucketOrUri) ? undefined : '');
    return t.driver.bucketExists(t.bucket);
  }

  /** A time-limited URL to GET or PUT an object, when the driver can presign (`capabilities.presign`). */
  presign(uri: string, options?: { method?: 'GET' | 'PUT'; expiresSeconds?: number }): Promise<string>;
  presign(bucket: string, key: string, options?: { method?: 'GET' | 'PUT'; expiresSeconds?: number }): Promise<string>;
  async presign(a: string, b?: string | { method?: 'GET' | 'PUT'; expiresSeconds?: number }, c?: { method?: 'GET' | 'PUT'; expiresSeconds?: number }): Promise<string> {
    const [key, options] = typeof b === 'string' ? [b, c] : [undefined, b];
    const t = await this.target(a, key);
    if (!t.driver.presign || !t.driver.capabilities.presign) {
      throw new StorageError('NOT_SUPPORTED', `the ${t.driver.name} storage driver cannot presign URLs`, { bucket: t.bucket, key: t.key });
    }
    return t.driver.presign(t.bucket, t.key, { method: options?.method ?? 'GET', expiresSeconds: options?.expiresSeconds ?? 3600 });
  }

  /** Releases the sockets and handles of this storage's drivers (a driver instance passed in is the caller's to close). */
  async close(): Promise<void> {
    const own = [...this.schemeDrivers.values()];
    this.schemeDrivers.clear();
    if (!isStorageDriver(this.spec) && this.driverPromise) {
      own.push(this.driverPromise);
      this.driverPromise = undefined;
    }
    await Promise.all(own.map(async (p) => (await p.catch(() => undefined))?.close?.()));
  }
}
