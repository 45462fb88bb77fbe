/**
 * The `memory` storage driver: buckets in an in-process Map, for tests and small local runs. Objects are
 * copied on the way in and out, so callers may reuse their buffers.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ConfigError, NoSuchBucketError, NoSuchKeyError, StorageError } from '../../errors.js';
import { assertValidRange, bufferStream, clampRange, collectBody } from '../body.js';
import { assertValidBucket, assertValidKey, compareKeys, quoteName } from '../keys.js';
import { groupByDelimiter, listQuery } from '../listing.js';
import { validateStorageOptions } from '../options.js';
import type { MemoryOptions } from './options.js';
import { memoryCapabilities, memorySpec } from './options.js';

export type { MemoryOptions } from './options.js';
import type {
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectInfo,
  PutOptions,
  StorageBody,
  StorageCapabilities,
  StorageConfig,
  StorageDriver,
} from '../types.js';

interface StoredObject {
  data: Buffer;
  etag: string;
  lastModified: Date;
}

interface MemoryBucket {
  objects: Map<string, StoredObject>;
  /** Keys in list order; rebuilt lazily after a write (a running listing keeps its old array). */
  sorted: string[] | undefined;
}

type MemoryStore = Map<string, MemoryBucket>;

/** Stores shared by id across instances in this process. */
const sharedStores: Map<string, MemoryStore> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('burst.storage.memory')
] ??= new Map()) as Map<string, MemoryStore>;

class MemoryDriver implements StorageDriver {
  readonly name = 'memory';
  readonly capabilities: StorageCapabilities = memoryCapabilities({});
  readonly config: StorageConfig;
  private readonly store: MemoryStore;

  constructor(options: MemoryOptions) {
    if (options.id !== undefined && (typeof options.id !== 'string' || options.id === '')) {
      throw new ConfigError(`memory storage id must be a non-empty string, got ${JSON.stringify(options.id)}`, {
        keyPath: 'id',
      });
    }
    if (options.id === undefined) {
      this.store = new Map();
    } else {
      this.store = sharedStores.get(options.id) ?? new Map();
      sharedStores.set(options.id, this.store);
    }
    this.config = { driver: 'memory', options: options.id === undefined ? {} : { id: options.id } };
    for (const bucket of options.buckets ?? []) {
      assertValidBucket(bucket);
      if (!this.store.has(bucket)) this.store.set(bucket, { objects: new Map(), sorted: undefined });
    }
  }

  private bucket(bucket: string): MemoryBucket {
    assertValidBucket(bucket);
    const b = this.store.get(bucket);
    if (!b) throw new NoSuchBucketError(bucket);
    return b;
  }

  private object(bucket: string, key: string): StoredObject {
    assertValidBucket(bucket);
    assertValidKey(bucket, key);
    const found = this.bucket(bucket).objects.get(key);
    if (!found) throw new NoSuchKeyError(bucket, key);
    return found;
  }

  async put(bucket: string, key: string, body: StorageBody, options: PutOptions = {}): Promise<{ etag?: string }> {
    assertValidBucket(bucket);
    assertValidKey(bucket, key);
    this.bucket(bucket);
    const data = Buffer.from(await collectBody(body, { bucket, key }, options));
    // Looked up again: the bucket may have been deleted while the body was read.
    const target = this.bucket(bucket);
    const etag = createHash('md5').update(data).digest('hex');
    if (!target.objects.has(key)) target.sorted = undefined;
    target.objects.set(key, { data, etag, lastModified: new Date() });
    return { etag };
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<Uint8Array> {
    assertValidRange(bucket, key, options.range);
    const { data } = this.object(bucket, key);
    const { start, end } = clampRange(data.byteLength, options.range);
    return Uint8Array.prototype.slice.call(data, start, end);
  }

  async getStream(bucket: string, key: string, options: GetOptions = {}): Promise<Readable> {
    return bufferStream(await this.get(bucket, key, options));
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    const o = this.object(bucket, key);
    return { key, size: o.data.byteLength, etag: o.etag, lastModified: o.lastModified };
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    assertValidBucket(bucket);
    assertValidKey(bucket, key);
    return this.bucket(bucket).objects.has(key);
  }

  list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry> {
    const driver = this;
    return {
      async *[Symbol.asyncIterator]() {
        const query = listQuery(bucket, prefix, options);
        const b = driver.bucket(bucket);
        b.sorted ??= [...b.objects.keys()].sort(compareKeys);
        yield* groupByDelimiter(objectsFrom(b, b.sorted, query.prefix, query.startAfter), query);
      },
    };
  }

  async delete(bucket: string, keys: Iterable<string> | AsyncIterable<string>): Promise<void> {
    const b = this.bucket(bucket);
    const all: string[] = [];
    for await (const key of keys) {
      assertValidKey(bucket, key);
      all.push(key);
    }
    for (const key of all) if (b.objects.delete(key)) b.sorted = undefined;
  }

  async createBucket(bucket: string): Promise<void> {
    assertValidBucket(bucket);
    if (!this.store.has(bucket)) this.store.set(bucket, { objects: new Map(), sorted: undefined });
  }

  async deleteBucket(bucket: string): Promise<void> {
    const b = this.bucket(bucket);
    if (b.objects.size > 0)
      throw new StorageError('BUCKET_NOT_EMPTY', `bucket ${quoteName(bucket)} is not empty`, { bucket });
    this.store.delete(bucket);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    assertValidBucket(bucket);
    return this.store.has(bucket);
  }

  async listBuckets(): Promise<string[]> {
    return [...this.store.keys()].sort();
  }
}

/** Objects of `sorted` under `prefix` after `startAfter`, found by binary search. */
function* objectsFrom(
  b: MemoryBucket,
  sorted: string[],
  prefix: string,
  startAfter: string | undefined,
): Generator<ObjectInfo> {
  const from = startAfter !== undefined && compareKeys(startAfter, prefix) >= 0 ? startAfter : prefix;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid] as string, from) < 0) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < sorted.length; i++) {
    const key = sorted[i] as string;
    if (!key.startsWith(prefix)) return;
    if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
    const o = b.objects.get(key);
    if (o) yield { key, size: o.data.byteLength, etag: o.etag, lastModified: o.lastModified };
  }
}

/**
 * Creates an in-memory storage driver.
 *
 * @example
 * ```ts
 * const storage = memory({ buckets: ['test'] });
 * await storage.put('test', 'hello.txt', 'hi');
 * ```
 */
export function memory(options: MemoryOptions = {}): StorageDriver {
  return new MemoryDriver(validateStorageOptions(memorySpec, options));
}

/** Creates the driver from options already checked (by the registry, or where a worker's config was made). */
export function createMemoryDriver(options: MemoryOptions): StorageDriver {
  return new MemoryDriver(options);
}
