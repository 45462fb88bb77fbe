/**
 * A driver whose implementation module is imported on its first operation. The factories users call
 * (`s3()`) return one, so `import 'burst-compute'` does not load the driver code it may never use
 * (issue 16); name, capabilities and config are known up front, exactly as the driver reports them.
 */
import type { Readable } from 'node:stream';
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
} from './types.js';

/** A driver with every optional operation (what {@link LazyDriver} can stand in for). */
export type CompleteDriver = StorageDriver & Required<Pick<StorageDriver, 'listBuckets' | 'presign' | 'close'>>;

/** Stands in for the driver that `load` creates; every operation waits for it, then delegates. */
export class LazyDriver implements CompleteDriver {
  #driver: Promise<CompleteDriver> | undefined;

  constructor(
    readonly name: string,
    readonly capabilities: StorageCapabilities,
    readonly config: StorageConfig,
    private readonly load: () => Promise<CompleteDriver>,
  ) {}

  /** The real driver, imported and created once. */
  private driver(): Promise<CompleteDriver> {
    this.#driver ??= this.load();
    return this.#driver;
  }

  async put(bucket: string, key: string, body: StorageBody, options?: PutOptions): Promise<{ etag?: string }> {
    return (await this.driver()).put(bucket, key, body, options);
  }

  async get(bucket: string, key: string, options?: GetOptions): Promise<Uint8Array> {
    return (await this.driver()).get(bucket, key, options);
  }

  async getStream(bucket: string, key: string, options?: GetOptions): Promise<Readable> {
    return (await this.driver()).getStream(bucket, key, options);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    return (await this.driver()).head(bucket, key);
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return (await this.driver()).exists(bucket, key);
  }

  list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry> {
    const driver = () => this.driver();
    return {
      async *[Symbol.asyncIterator]() {
        yield* (await driver()).list(bucket, prefix, options);
      },
    };
  }

  async delete(bucket: string, keys: Iterable<string> | AsyncIterable<string>): Promise<void> {
    return (await this.driver()).delete(bucket, keys);
  }

  async createBucket(bucket: string): Promise<void> {
    return (await this.driver()).createBucket(bucket);
  }

  async deleteBucket(bucket: string): Promise<void> {
    return (await this.driver()).deleteBucket(bucket);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    return (await this.driver()).bucketExists(bucket);
  }

  async listBuckets(): Promise<string[]> {
    return (await this.driver()).listBuckets();
  }

  async presign(
    bucket: string,
    key: string,
    options: { method: 'GET' | 'PUT'; expiresSeconds: number },
  ): Promise<string> {
    return (await this.driver()).presign(bucket, key, options);
  }

  /** Closes the driver if it was ever created (nothing was opened otherwise). */
  async close(): Promise<void> {
    if (this.#driver === undefined) return;
    await (await this.#driver).close();
  }
}
