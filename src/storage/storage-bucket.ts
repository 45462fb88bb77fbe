/**
 * `StorageBucket`: one bucket of a {@link Storage}, with methods that take keys only. What
 * `storage.bucket()` returns; inside a task `ctx.storage.bucket()` is the executor's bucket.
 */
import type { Readable } from 'node:stream';
import type { GetOptions, ListEntry, ListOptions, ObjectInfo, PutOptions, StorageBody } from './types.js';

/** The bucket-and-key methods of `Storage` a bucket handle delegates to. */
interface BucketAndKeyMethods {
  readonly driverName: string;
  put(bucket: string, key: string, body: StorageBody, options?: PutOptions): Promise<{ etag?: string }>;
  get(bucket: string, key: string, options?: GetOptions): Promise<Uint8Array>;
  getStream(bucket: string, key: string, options?: GetOptions): Promise<Readable>;
  getText(bucket: string, key: string): Promise<string>;
  getJson<T>(bucket: string, key: string): Promise<T>;
  putJson(bucket: string, key: string, value: unknown): Promise<{ etag?: string }>;
  head(bucket: string, key: string): Promise<ObjectInfo>;
  exists(bucket: string, key: string): Promise<boolean>;
  list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry>;
  listKeys(bucket: string, prefix?: string, options?: ListOptions): Promise<string[]>;
  delete(bucket: string, keys: string | Iterable<string> | AsyncIterable<string>): Promise<void>;
  deletePrefix(bucket: string, prefix: string): Promise<number>;
}

/**
 * One bucket of a storage.
 *
 * @example
 * ```ts
 * const results = storage.bucket('results');
 * await results.putJson('run-1/summary.json', { ok: true });
 * console.log(await results.listKeys('run-1/'));
 * ```
 */
export class StorageBucket {
  /** @internal Use `storage.bucket(name)`. */
  constructor(
    private readonly storage: BucketAndKeyMethods,
    /** The bucket name. */
    readonly name: string,
  ) {}

  /** The URI of a key in this bucket, e.g. `s3://bucket/key`. */
  uri(key = ''): string {
    return `${this.storage.driverName}://${this.name}${key === '' ? '' : `/${key}`}`;
  }

  put(key: string, body: StorageBody, options?: PutOptions): Promise<{ etag?: string }> {
    return this.storage.put(this.name, key, body, options);
  }
  get(key: string, options?: GetOptions): Promise<Uint8Array> {
    return this.storage.get(this.name, key, options);
  }
  getStream(key: string, options?: GetOptions): Promise<Readable> {
    return this.storage.getStream(this.name, key, options);
  }
  getText(key: string): Promise<string> {
    return this.storage.getText(this.name, key);
  }
  getJson<T = unknown>(key: string): Promise<T> {
    return this.storage.getJson<T>(this.name, key);
  }
  putJson(key: string, value: unknown): Promise<{ etag?: string }> {
    return this.storage.putJson(this.name, key, value);
  }
  head(key: string): Promise<ObjectInfo> {
    return this.storage.head(this.name, key);
  }
  exists(key: string): Promise<boolean> {
    return this.storage.exists(this.name, key);
  }
  list(prefix = '', options?: ListOptions): AsyncIterable<ListEntry> {
    return this.storage.list(this.name, prefix, options);
  }
  listKeys(prefix = '', options?: ListOptions): Promise<string[]> {
    return this.storage.listKeys(this.name, prefix, options);
  }
  delete(keys: string | Iterable<string> | AsyncIterable<string>): Promise<void> {
    return this.storage.delete(this.name, keys);
  }
  deletePrefix(prefix: string): Promise<number> {
    return this.storage.deletePrefix(this.name, prefix);
  }
}
