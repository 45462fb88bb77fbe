/**
 * The `s3` storage driver: AWS S3 and S3-compatible stores (Ceph RGW, MinIO, IBM COS, Cloudflare R2)
 * through the official AWS SDK v3, which is imported on the first request, never at import time.
 *
 * Multipart upload above a threshold (s3-multipart.ts), reads and streams split into parallel ranged
 * GETs guarded by If-Match (s3-download.ts; direct sockets on http endpoints), paginated listings,
 * batched deletes, the SDK's standard retries with backoff, keep-alive sockets, and bounded timeouts
 * so that an unreachable or stalled endpoint fails with StorageUnavailableError instead of hanging.
 */
import { Readable } from 'node:stream';
import { NoSuchBucketError, NoSuchKeyError, StorageError } from '../../errors.js';
import { assertValidRange, throwIfAborted } from '../body.js';
import { assertValidBucket, assertValidKey, compareKeys, quoteName } from '../keys.js';
import { listQuery } from '../listing.js';
import {
  createS3Handle,
  endpointLabel,
  resolveS3Settings,
  s3DriverConfig,
  type S3Handle,
  type S3Options,
  type S3Settings,
} from './client.js';
import { mapS3Error } from './errors.js';
import { downloadRange, ObjectChangedError, streamRange } from './download.js';
import { cleanEtag, uploadObject } from './transfer.js';
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
import { existsByHead } from '../exists.js';
import type { CompleteDriver } from '../lazy-driver.js';
import { validateStorageOptions } from '../options.js';
import { s3Capabilities, s3Spec } from './options.js';

export type { S3Options } from './options.js';

/** How long a bucket seen to exist is trusted when telling a missing key from a missing bucket. */
const BUCKET_SEEN_MS = 10_000;

class S3Driver implements StorageDriver {
  readonly name = 's3';
  readonly capabilities: StorageCapabilities = s3Capabilities({});
  readonly config: StorageConfig;
  private readonly settings: S3Settings;
  private handlePromise: Promise<S3Handle> | undefined;
  private readonly bucketsSeen = new Map<string, number>();

  constructor(options: S3Options) {
    this.settings = resolveS3Settings(options);
    this.config = s3DriverConfig(this.settings);
  }

  private handle(): Promise<S3Handle> {
    this.handlePromise ??= createS3Handle(this.settings);
    return this.handlePromise;
  }

  private fail(
    err: unknown,
    op: string,
    bucket?: string,
    key?: string,
    notFound: 'key' | 'bucket' | 'none' = 'none',
  ): Error {
    const secrets = [this.settings.secretAccessKey ?? '', this.settings.sessionToken ?? ''];
    return mapS3Error(
      err,
      {
        op,
        endpoint: endpointLabel(this.settings),
        secrets,
        ...(bucket === undefined ? {} : { bucket }),
        ...(key === undefined ? {} : { key }),
      },
      notFound,
    );
  }

  /** Runs one SDK command, mapping its errors. */
  private async send<T>(
    op: string,
    bucket: string,
    key: string | undefined,
    run: (h: S3Handle) => Promise<T>,
    notFound: 'key' | 'bucket' | 'none' = 'none',
  ): Promise<T> {
    const h = await this.handle();
    try {
      const out = await run(h);
      this.bucketsSeen.set(bucket, Date.now());
      return out;
    } catch (err) {
      throw this.fail(err, op, bucket, key, notFound);
    }
  }

  /** A bare 404 on an object: NoSuchKey when the bucket exists, else NoSuchBucket. */
  private async missing(bucket: string, key: string, err: unknown): Promise<Error> {
    const seen = this.bucketsSeen.get(bucket);
    if (seen !== undefined && Date.now() - seen < BUCKET_SEEN_MS)
      return new NoSuchKeyError(bucket, key, { cause: err });
    return (await this.bucketExists(bucket))
      ? new NoSuchKeyError(bucket, key, { cause: err })
      : new NoSuchBucketError(bucket, { cause: err });
  }

  private validate(bucket: string, key: string): void {
    assertValidBucket(bucket);
    assertValidKey(bucket, key);
  }

  async put(bucket: string, key: string, body: StorageBody, options: PutOptions = {}): Promise<{ etag?: string }> {
    this.validate(bucket, key);
    throwIfAborted(options.signal, { bucket, key });
    const raw = await this.send('put', bucket, key, (h) => uploadObject(h, this.settings, bucket, key, body, options));
    const etag = cleanEtag(raw) ?? (await this.head(bucket, key)).etag; // Ceph: CompleteMultipartUpload has no ETag
    return etag === undefined ? {} : { etag };
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<Uint8Array> {
    this.validate(bucket, key);
    assertValidRange(bucket, key, options.range);
    const { range, signal } = options;
    if (range?.length === 0) {
      await this.head(bucket, key); // S3 cannot express an empty range; the object must still exist
      return new Uint8Array(0);
    }
    const end = range?.length === undefined ? undefined : range.offset + range.length;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(
          'get',
          bucket,
          key,
          (h) => downloadRange(h, this.settings, bucket, key, range?.offset ?? 0, end, signal),
          'key',
        );
      } catch (err) {
        if ((err as { cause?: unknown }).cause instanceof ObjectChangedError && attempt < 3) continue;
        if ((err as { cause?: unknown }).cause instanceof ObjectChangedError) {
          throw new StorageError(
            'CHANGED_DURING_READ',
            `object ${quoteName(key)} in bucket ${quoteName(bucket)} kept changing while it was read`,
            { bucket, key, cause: err },
          );
        }
        throw err instanceof NoSuchKeyError ? await this.missing(bucket, key, err) : err;
      }
    }
  }

  async getStream(bucket: string, key: string, options: GetOptions = {}): Promise<Readable> {
    this.validate(bucket, key);
    assertValidRange(bucket, key, options.range);
    const { range, signal } = options;
    if (range?.length === 0) {
      await this.head(bucket, key);
      return Readable.from([]);
    }
    const end = range?.length === undefined ? undefined : range.offset + range.length;
    const mapError = (err: unknown) =>
      err instanceof ObjectChangedError
        ? new StorageError(
            'CHANGED_DURING_READ',
            `object ${quoteName(key)} in bucket ${quoteName(bucket)} changed while it was read`,
            { bucket, key, cause: err },
          )
        : this.fail(err, 'get', bucket, key, 'key');
    try {
      return await this.send(
        'get',
        bucket,
        key,
        (h) => streamRange(h, this.settings, bucket, key, range?.offset ?? 0, end, signal, mapError),
        'key',
      );
    } catch (err) {
      throw err instanceof NoSuchKeyError ? await this.missing(bucket, key, err) : err;
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    this.validate(bucket, key);
    try {
      const out = await this.send(
        'head',
        bucket,
        key,
        (h) => h.client.send(new h.sdk.HeadObjectCommand({ Bucket: bucket, Key: key })),
        'key',
      );
      const etag = cleanEtag(out.ETag);
      return {
        key,
        size: out.ContentLength ?? 0,
        ...(etag ? { etag } : {}),
        ...(out.LastModified ? { lastModified: out.LastModified } : {}),
      };
    } catch (err) {
      throw err instanceof NoSuchKeyError ? await this.missing(bucket, key, err) : err;
    }
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return existsByHead(() => this.head(bucket, key));
  }

  list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry> {
    return { [Symbol.asyncIterator]: () => this.listPages(bucket, prefix, options) };
  }

  private async *listPages(
    bucket: string,
    prefix: string | undefined,
    options: ListOptions | undefined,
  ): AsyncGenerator<ListEntry> {
    const q = listQuery(bucket, prefix, options);
    let token: string | undefined;
    do {
      const page = await this.send(
        'list',
        bucket,
        undefined,
        (h) =>
          h.client.send(
            new h.sdk.ListObjectsV2Command({
              Bucket: bucket,
              MaxKeys: this.settings.listPageSize,
              ...(q.prefix ? { Prefix: q.prefix } : {}),
              ...(q.delimiter ? { Delimiter: q.delimiter } : {}),
              ...(token ? { ContinuationToken: token } : q.startAfter ? { StartAfter: q.startAfter } : {}),
            }),
          ),
        'bucket',
      );
      const entries: Array<{ sort: string; entry: ListEntry }> = [];
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        const etag = cleanEtag(o.ETag);
        const info: ObjectInfo = {
          key: o.Key,
          size: o.Size ?? 0,
          ...(etag ? { etag } : {}),
          ...(o.LastModified ? { lastModified: o.LastModified } : {}),
        };
        entries.push({ sort: o.Key, entry: info });
      }
      for (const p of page.CommonPrefixes ?? [])
        if (p.Prefix !== undefined) entries.push({ sort: p.Prefix, entry: { prefix: p.Prefix } });
      entries.sort((a, b) => compareKeys(a.sort, b.sort));
      for (const e of entries) yield e.entry;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(bucket: string, keys: Iterable<string> | AsyncIterable<string>): Promise<void> {
    assertValidBucket(bucket);
    let batch: string[] = [];
    let sentAny = false;
    for await (const key of keys) {
      assertValidKey(bucket, key);
      batch.push(key);
      if (batch.length === 1000) {
        await this.deleteBatch(bucket, batch);
        sentAny = true;
        batch = [];
      }
    }
    if (batch.length > 0 || !sentAny) await this.deleteBatch(bucket, batch);
  }

  private async deleteBatch(bucket: string, keys: string[]): Promise<void> {
    if (keys.length === 0) {
      if (!(await this.bucketExists(bucket))) throw new NoSuchBucketError(bucket);
      return;
    }
    const out = await this.send(
      'delete',
      bucket,
      undefined,
      (h) =>
        h.client.send(
          new h.sdk.DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      'bucket',
    );
    const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      const first = failed[0];
      // internal: shaped as the SDK's errors so that fail() maps it to a StorageError like theirs.
      throw this.fail(
        Object.assign(new Error(first?.Message ?? 'delete failed'), {
          name: first?.Code ?? 'DeleteFailed',
          Code: first?.Code,
        }),
        'delete',
        bucket,
        first?.Key,
      );
    }
  }

  async createBucket(bucket: string): Promise<void> {
    assertValidBucket(bucket);
    const { region, endpoint } = this.settings;
    // Outside us-east-1 AWS needs the region as LocationConstraint; other stores name regions their own way.
    const constraint =
      endpoint === undefined && region !== 'us-east-1'
        ? { CreateBucketConfiguration: { LocationConstraint: region as never } }
        : {};
    try {
      await this.send('createBucket', bucket, undefined, (h) =>
        h.client.send(new h.sdk.CreateBucketCommand({ Bucket: bucket, ...constraint })),
      );
    } catch (err) {
      const code = (err as { cause?: { name?: string; Code?: string } }).cause;
      if (code?.name === 'BucketAlreadyOwnedByYou' || code?.Code === 'BucketAlreadyOwnedByYou') return;
      throw err;
    }
  }

  async deleteBucket(bucket: string): Promise<void> {
    assertValidBucket(bucket);
    await this.send(
      'deleteBucket',
      bucket,
      undefined,
      (h) => h.client.send(new h.sdk.DeleteBucketCommand({ Bucket: bucket })),
      'bucket',
    );
    this.bucketsSeen.delete(bucket);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    assertValidBucket(bucket);
    try {
      await this.send(
        'bucketExists',
        bucket,
        undefined,
        (h) => h.client.send(new h.sdk.HeadBucketCommand({ Bucket: bucket })),
        'bucket',
      );
      return true;
    } catch (err) {
      if (err instanceof NoSuchBucketError) {
        this.bucketsSeen.delete(bucket);
        return false;
      }
      throw err;
    }
  }

  async listBuckets(): Promise<string[]> {
    const h = await this.handle();
    try {
      const out = await h.client.send(new h.sdk.ListBucketsCommand({}));
      return (out.Buckets ?? [])
        .map((b) => b.Name ?? '')
        .filter((n) => n !== '')
        .sort();
    } catch (err) {
      throw this.fail(err, 'listBuckets');
    }
  }

  async presign(
    bucket: string,
    key: string,
    options: { method: 'GET' | 'PUT'; expiresSeconds: number },
  ): Promise<string> {
    this.validate(bucket, key);
    if (
      !Number.isSafeInteger(options.expiresSeconds) ||
      options.expiresSeconds <= 0 ||
      options.expiresSeconds > 604800
    ) {
      throw new StorageError(
        'INVALID_EXPIRY',
        `presign expiresSeconds must be an integer from 1 to 604800 (7 days), got ${options.expiresSeconds}`,
        { bucket, key },
      );
    }
    const h = await this.handle();
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const input = { Bucket: bucket, Key: key };
    const command = options.method === 'PUT' ? new h.sdk.PutObjectCommand(input) : new h.sdk.GetObjectCommand(input);
    try {
      return await getSignedUrl(h.client, command, { expiresIn: options.expiresSeconds });
    } catch (err) {
      throw this.fail(err, 'presign', bucket, key);
    }
  }

  async close(): Promise<void> {
    const h = this.handlePromise;
    this.handlePromise = undefined;
    if (h) (await h.catch(() => undefined))?.destroy();
  }
}

/**
 * Creates a driver for AWS S3 or an S3-compatible store.
 *
 * @example
 * ```ts
 * const storage = s3({ endpoint: 'http://127.0.0.1:7480', accessKeyId: 'KEY', secretAccessKey: 'SECRET' });
 * await storage.put('data', 'hello.txt', 'hi');
 * ```
 */
export function s3(options: S3Options = {}): StorageDriver {
  return new S3Driver(validateStorageOptions(s3Spec, options));
}

/** Creates the driver from options already checked (by the registry, or where a worker's config was made). */
export function createS3Driver(options: S3Options): CompleteDriver {
  return new S3Driver(options);
}
