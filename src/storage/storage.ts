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
import { createStorage, isStorageDriver, openStorageConfig } from './registry.js';
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

/**
 * Driver options by driver name: the typed options of `new Storage({ driver, ... })`, and the `fs`/`s3`
 * sections of `ExecutorOptions` and config files. A third-party driver adds its own by declaration
 * merging:
 *
 * ```ts
 * declare module 'burst-compute' {
 *   interface StorageDriverOptions { gcs: GcsOptions }
 * }
 * ```
 */
export interface StorageDriverOptions {
  /** Options of the `fs` storage driver (e.g. `{ root: '/data/burst' }`). */
  fs: FsOptions;
  /** Options of the `memory` storage driver (tests; in-process only). */
  memory: MemoryOptions;
  /** Options of the `s3` storage driver (endpoint, region, credentials, part sizes, timeouts). */
  s3: S3Options;
}

/** @deprecated Renamed {@link StorageDriverOptions}. */
export type StorageBackendOptions = StorageDriverOptions;

/** Options every {@link Storage} accepts besides its driver's own. */
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

/** Options of `new Storage(...)`: a driver name and that driver's options. */
export type StorageOptions =
  | {
      [K in keyof StorageDriverOptions]: { driver: K } & StorageDriverOptions[K] & CommonStorageOptions;
    }[keyof StorageDriverOptions]
  | ({ driver: string } & CommonStorageOptions & Record<string, unknown>)
  | LegacyStorageOptions;

/**
 * The form before `driver` (0.1): `{ backend: 's3', ... }`. Still accepted, with a one-time
 * deprecation warning; "backend" now means only where calls run.
 * @deprecated Use `{ driver: 's3', ... }`.
 */
export type LegacyStorageOptions = { backend: string; driver?: never } & CommonStorageOptions & Record<string, unknown>;

let warnedLegacy = false;

type Target = { driver: StorageDriver; bucket: string; key: string };

/**
 * Object storage for user code. Every method takes either `(bucket, key, ...)` or one URI such as
 * `s3://bucket/key`, `fs://bucket/key` or `file:///path` (a bucket name never contains `://`).
 * Construction is cheap: the driver (and its SDK) loads on first use.
 *
 * @example
 * ```ts
 * const storage = new Storage({ driver: 's3', endpoint: 'http://127.0.0.1:7480' });
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
  /** Made from a driver's config: its options were checked where the config was made. */
  private trusted = false;

  /**
   * @param options a driver name with its options (checked against the driver's schema on first use),
   * a driver instance, or a driver's `config` (as `driver.config` holds it: not checked again); default
   * the fs driver.
   * @param common the bucket and URI defaults when `options` is a driver or a config.
   */
  constructor(
    options: StorageOptions | StorageDriver | StorageConfig = { driver: 'fs' },
    common: CommonStorageOptions = {},
  ) {
    if (isStorageDriver(options) || (typeof options === 'object' && options !== null && isConfig(options))) {
      if (common.defaultBucket !== undefined) assertValidBucket(common.defaultBucket);
      this.spec = options;
      this.defaultBucket = common.defaultBucket;
      this.uriDefaults = common.uriDefaults ?? {};
      if (isStorageDriver(options)) this.driverPromise = Promise.resolve(options);
      else this.trusted = true;
      return;
    }
    if (typeof options !== 'object' || options === null) throw new ConfigError('Storage options must be an object');
    const {
      driver: named,
      backend,
      defaultBucket,
      uriDefaults,
      ...driverOptions
    } = options as { driver?: unknown; backend?: unknown } & CommonStorageOptions & Record<string, unknown>;
    if (named !== undefined && backend !== undefined) {
      throw new ConfigError(
        'Storage options give both "driver" and "backend"; use "driver" ("backend" is its old name)',
        { keyPath: 'backend' },
      );
    }
    if (backend !== undefined && !warnedLegacy) {
      warnedLegacy = true;
      process.emitWarning('new Storage({ backend }) is deprecated: use new Storage({ driver }) (same values)', {
        type: 'DeprecationWarning',
        code: 'BURST_STORAGE_BACKEND',
      });
    }
    const driver = named ?? backend;
    if (typeof driver !== 'string' || driver === '') {
      throw new ConfigError(
        `Storage driver must be a driver name such as "fs" or "s3", got ${JSON.stringify(driver)}`,
        { keyPath: 'driver' },
      );
    }
    if (defaultBucket !== undefined) assertValidBucket(defaultBucket);
    this.defaultBucket = defaultBucket;
    this.uriDefaults = uriDefaults ?? {};
    this.spec = { driver, options: driverOptions };
  }

  /** The driver behind this storage (created on first call). */
  driver(): Promise<StorageDriver> {
    this.driverPromise ??=
      this.trusted && !isStorageDriver(this.spec) ? openStorageConfig(this.spec) : createStorage(this.spec);
    return this.driverPromise;
  }

  /** The name of the driver (`'fs'`, `'s3'`…), known without loading it. */
  get driverName(): string {
    return isStorageDriver(this.spec) ? this.spec.name : this.spec.driver;
  }

  /** @deprecated Renamed {@link Storage.driverName}. */
  get backend(): string {
    return this.driverName;
  }

  /** A handle on one bucket whose methods take keys only; `name` defaults to {@link defaultBucket}. */
  bucket(name: string | undefined = this.defaultBucket): StorageBucket {
    if (name === undefined)
      throw new ConfigError('Storage.bucket() needs a bucket name: this storage has no defaultBucket');
    assertValidBucket(name);
    return new StorageBucket(this, name);
  }

  /** Resolves `(uri)` or `(bucket, key)` to a driver, bucket and key. */
  private async target(first: string, key: string | undefined): Promise<Target> {
    if (key !== undefined || !isStorageUri(first))
      return { driver: await this.driver(), bucket: first, key: key ?? '' };
    const location = parseStorageUri(first);
    return { driver: await this.driverFor(location.scheme), bucket: location.bucket, key: location.key };
  }

  private driverFor(scheme: string): Promise<StorageDriver> {
    if (scheme === this.driverName) return this.driver();
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
  async put(
    a: string,
    b: string | StorageBody,
    c?: StorageBody | PutOptions,
    d?: PutOptions,
  ): Promise<{ etag?: string }> {
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
      throw new StorageError(
        'INVALID_JSON',
        `object "${t.key}" in bucket "${t.bucket}" is not valid JSON: ${(err as Error).message}`,
        {
          bucket: t.bucket,
          key: t.key,
          cause: err,
        },
      );
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
    if (text === undefined)
      throw new StorageError('INVALID_JSON', `cannot store ${typeof value} as JSON in object "${t.key}"`, {
        bucket: t.bucket,
        key: t.key,
      });
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
    const target = () =>
      prefix === undefined && isStorageUri(a) ? this.target(a, undefined) : this.target(a, prefix ?? '');
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
  async presign(
    a: string,
    b?: string | { method?: 'GET' | 'PUT'; expiresSeconds?: number },
    c?: { method?: 'GET' | 'PUT'; expiresSeconds?: number },
  ): Promise<string> {
    const [key, options] = typeof b === 'string' ? [b, c] : [undefined, b];
    const t = await this.target(a, key);
    if (!t.driver.presign || !t.driver.capabilities.presign) {
      throw new StorageError('NOT_SUPPORTED', `the ${t.driver.name} storage driver cannot presign URLs`, {
        bucket: t.bucket,
        key: t.key,
      });
    }
    return t.driver.presign(t.bucket, t.key, {
      method: options?.method ?? 'GET',
      expiresSeconds: options?.expiresSeconds ?? 3600,
    });
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

/** A driver's `config` (`{ driver, options }`, maybe `module`) rather than a driver name with flat options. */
function isConfig(o: object): o is StorageConfig {
  const c = o as Partial<StorageConfig>;
  return (
    typeof c.driver === 'string' &&
    typeof c.options === 'object' &&
    c.options !== null &&
    Object.keys(o).every((k) => k === 'driver' || k === 'options' || k === 'module')
  );
}
