/**
 * The `fs` storage driver, Burst's zero-config default: a root folder holding one folder per bucket,
 * and each key a relative file path inside it, so the driver can point at existing data folders.
 *
 * Writes go to a temp file in the object's folder and are renamed into place, so a reader sees the old
 * object or the new one, never half of one. Keys are checked before any I/O: nothing can escape the
 * bucket folder.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, type BigIntStats } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigError, InvalidKeyError, NoSuchBucketError, NoSuchKeyError, StorageError } from '../../errors.js';
import { abortedError, assertValidRange, bodyChunks, clampRange, knownBytes, throwIfAborted } from '../body.js';
import { fsError, isCode } from './errors.js';
import { RootGuard } from './contain.js';
import { fileEtag, holdsObject, walkFolder } from './list.js';
import { TEMP_PREFIX, assertPathSafeKey, assertValidBucket, assertValidKey, quoteName } from '../keys.js';
import { groupByDelimiter, listQuery } from '../listing.js';
import { validateStorageOptions } from '../options.js';
import type { FsOptions } from './options.js';
import { fsCapabilities, fsSpec } from './options.js';

export type { FsOptions } from './options.js';
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

/**
 * A key a file tree cannot hold next to existing objects: `a/b` when `a` is an object, or `a` when
 * objects `a/...` exist (S3 allows both; a folder cannot be a file).
 */
function conflict(bucket: string, key: string, why: string, cause: unknown): InvalidKeyError {
  return new InvalidKeyError(`key ${quoteName(key)} cannot be stored in bucket ${quoteName(bucket)}: ${why}`, {
    bucket,
    key,
    cause,
  });
}

/** Deletes run this many file operations at once. */
const DELETE_CONCURRENCY = 32;

class FsDriver implements StorageDriver {
  readonly name = 'fs';
  readonly capabilities: StorageCapabilities;
  readonly config: StorageConfig;
  /** Absolute root folder. */
  readonly root: string;
  private readonly fsync: boolean;
  private readonly guard: RootGuard;

  constructor(options: FsOptions) {
    const root = options.root ?? process.env.BURST_FS_ROOT ?? join(homedir(), '.burst', 'storage');
    if (typeof root !== 'string' || root === '' || root.includes('\0')) {
      throw new ConfigError(`fs storage root must be a non-empty path, got ${JSON.stringify(root)}`, {
        keyPath: 'root',
      });
    }
    this.root = resolve(root);
    this.guard = new RootGuard(this.root);
    this.fsync = options.fsync ?? false;
    const shared = options.shared ?? false;
    this.capabilities = fsCapabilities({ shared });
    this.config = { driver: 'fs', options: { root: this.root, shared, fsync: this.fsync } };
  }

  private bucketDir(bucket: string): string {
    assertValidBucket(bucket);
    return join(this.root, bucket);
  }

  /** The file of an object, after checking the key cannot leave the bucket folder. */
  private objectPath(bucket: string, key: string): string {
    const dir = this.bucketDir(bucket);
    assertValidKey(bucket, key);
    assertPathSafeKey(bucket, key);
    const path = join(dir, key);
    if (!path.startsWith(dir + sep))
      throw new ConfigError(`key ${quoteName(key)} resolves outside bucket ${quoteName(bucket)}`);
    return path;
  }

  private async assertBucket(bucket: string): Promise<void> {
    if (!(await this.bucketExists(bucket))) throw new NoSuchBucketError(bucket);
  }

  /** The error for a missing file: a missing bucket or a missing key. */
  private async missing(bucket: string, key: string, cause: unknown): Promise<Error> {
    if (!(await this.bucketExists(bucket))) return new NoSuchBucketError(bucket, { cause });
    return new NoSuchKeyError(bucket, key, { cause });
  }

  async put(bucket: string, key: string, body: StorageBody, options: PutOptions = {}): Promise<{ etag?: string }> {
    const path = this.objectPath(bucket, key);
    throwIfAborted(options.signal, { bucket, key });
    await this.assertBucket(bucket);
    await this.guard.assertContains(path, bucket, key);
    const temp = await this.createTemp(bucket, key, path);
    try {
      await this.guard.assertOpenedInside(temp.handle.fd, bucket, key);
      const s = await this.writeTemp(temp, body, options);
      await rename(temp.path, path).catch((err: unknown) => {
        if (isCode(err, 'EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'))
          throw conflict(bucket, key, 'it is a folder of other objects', err);
        throw err;
      });
      return { etag: fileEtag(s) };
    } catch (err) {
      await temp.handle.close().catch(() => undefined);
      await unlink(temp.path).catch(() => undefined);
      if (options.signal?.aborted) throw abortedError(options.signal, { bucket, key });
      throw fsError(err, 'put', bucket, key);
    }
  }

  /** Opens a new temp file next to the object's final path, creating its folders. */
  private async createTemp(bucket: string, key: string, path: string): Promise<{ path: string; handle: FileHandle }> {
    const dir = dirname(path);
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        if (isCode(err, 'ENOTDIR', 'EEXIST')) throw conflict(bucket, key, 'a parent folder of it is an object', err);
        throw fsError(err, 'put', bucket, key);
      }
      const tempPath = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        return { path: tempPath, handle: await open(tempPath, 'wx') };
      } catch (err) {
        // ENOENT: a concurrent delete pruned the empty folder between mkdir and open; try again.
        if (!isCode(err, 'ENOENT', 'EEXIST') || attempt >= 5) throw fsError(err, 'put', bucket, key);
      }
    }
  }

  /** Writes the body to the temp file and closes it; returns the file's stats (for the etag). */
  private async writeTemp(
    temp: { path: string; handle: FileHandle },
    body: StorageBody,
    options: PutOptions,
  ): Promise<BigIntStats> {
    const bytes = knownBytes(body);
    if (bytes) {
      await temp.handle.writeFile(bytes, options.signal ? { signal: options.signal } : {});
      if (this.fsync) await temp.handle.sync();
      const s = await temp.handle.stat({ bigint: true });
      await temp.handle.close();
      options.onProgress?.(bytes.byteLength);
      return s;
    }
    let sent = 0;
    const counted = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        sent += chunk.byteLength;
        options.onProgress?.(sent);
        yield chunk;
      }
    };
    // The stream owns the handle from here and closes it when done or destroyed.
    const out = temp.handle.createWriteStream({ highWaterMark: 1 << 20, flush: this.fsync });
    await pipeline(bodyChunks(body), counted, out, options.signal ? { signal: options.signal } : {});
    return stat(temp.path, { bigint: true });
  }

  /** Opens an object for reading; folders and missing files are missing objects. */
  private async openObject(bucket: string, key: string): Promise<{ handle: FileHandle; size: number }> {
    const path = this.objectPath(bucket, key);
    let handle: FileHandle;
    try {
      await this.guard.assertContains(path, bucket, key);
      handle = await open(path, 'r');
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP')) throw await this.missing(bucket, key, err);
      throw fsError(err, 'get', bucket, key);
    }
    try {
      await this.guard.assertOpenedInside(handle.fd, bucket, key);
    } catch (err) {
      await handle.close();
      throw err;
    }
    const s = await handle.stat();
    if (!s.isFile()) {
      await handle.close();
      throw new NoSuchKeyError(bucket, key);
    }
    return { handle, size: s.size };
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<Uint8Array> {
    assertValidRange(bucket, key, options.range);
    const { handle, size } = await this.openObject(bucket, key);
    try {
      const { start, end } = clampRange(size, options.range);
      const out = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < out.byteLength) {
        options.signal?.throwIfAborted();
        const { bytesRead } = await handle.read(out, done, out.byteLength - done, start + done);
        if (bytesRead === 0) break; // truncated underneath us (a writer not using this driver)
        done += bytesRead;
      }
      return done === out.byteLength ? out : out.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async getStream(bucket: string, key: string, options: GetOptions = {}): Promise<Readable> {
    assertValidRange(bucket, key, options.range);
    const { handle, size } = await this.openObject(bucket, key);
    const { start, end } = clampRange(size, options.range);
    if (end === start) {
      await handle.close();
      return Readable.from([]);
    }
    return createReadStream('', {
      fd: handle,
      start,
      end: end - 1,
      autoClose: true,
      highWaterMark: 1 << 20,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    const path = this.objectPath(bucket, key);
    try {
      await this.guard.assertContains(path, bucket, key);
      const s = await stat(path, { bigint: true });
      if (!s.isFile()) throw new NoSuchKeyError(bucket, key);
      return { key, size: Number(s.size), etag: fileEtag(s), lastModified: new Date(Number(s.mtimeMs)) };
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR', 'ELOOP')) throw await this.missing(bucket, key, err);
      throw fsError(err, 'head', bucket, key);
    }
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return existsByHead(() => this.head(bucket, key));
  }

  list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry> {
    return {
      [Symbol.asyncIterator]: () => this.listEntries(bucket, prefix, options),
    };
  }

  private async *listEntries(
    bucket: string,
    prefix: string | undefined,
    options: ListOptions | undefined,
  ): AsyncGenerator<ListEntry> {
    const query = listQuery(bucket, prefix, options);
    await this.assertBucket(bucket);
    // Start in the deepest folder the prefix names entirely ("a/b/c" starts in "a/b/").
    const slash = query.prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : query.prefix.slice(0, slash + 1);
    if (
      dirKey !== '' &&
      dirKey
        .split('/')
        .slice(0, -1)
        .some((s) => s === '' || s === '.' || s === '..')
    )
      return;
    const start = join(this.bucketDir(bucket), dirKey);
    // A prefix through a link to an outside folder lists nothing, as a prefix with `..` does.
    if (!(await this.guard.contains(start))) return;
    const inside = (path: string): Promise<boolean> => this.guard.contains(path);
    yield* groupByDelimiter(walkFolder(start, dirKey, query, inside), query);
  }

  async delete(bucket: string, keys: Iterable<string> | AsyncIterable<string>): Promise<void> {
    await this.assertBucket(bucket);
    let batch: string[] = [];
    for await (const key of keys) {
      const path = this.objectPath(bucket, key);
      await this.guard.assertContains(path, bucket, key);
      batch.push(path);
      if (batch.length >= 1000) {
        await this.deleteFiles(bucket, batch);
        batch = [];
      }
    }
    await this.deleteFiles(bucket, batch);
  }

  /** Unlinks files (missing ones are fine), then prunes folders left empty, as S3 has no empty folders. */
  private async deleteFiles(bucket: string, paths: string[]): Promise<void> {
    const bucketDir = this.bucketDir(bucket);
    const parents = new Set<string>();
    for (let i = 0; i < paths.length; i += DELETE_CONCURRENCY) {
      await Promise.all(
        paths.slice(i, i + DELETE_CONCURRENCY).map(async (path) => {
          try {
            await unlink(path);
            parents.add(dirname(path));
          } catch (err) {
            if (!isCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR', 'EPERM'))
              throw fsError(err, 'delete', bucket, path.slice(bucketDir.length + 1));
          }
        }),
      );
    }
    // Deepest first, so a folder's children are pruned before it.
    for (const dir of [...parents].sort((a, b) => b.length - a.length)) {
      for (let d = dir; d.startsWith(bucketDir + sep); d = dirname(d)) {
        if (
          !(await rmdir(d).then(
            () => true,
            () => false,
          ))
        )
          break;
      }
    }
  }

  async createBucket(bucket: string): Promise<void> {
    const dir = this.bucketDir(bucket);
    try {
      await mkdir(this.root, { recursive: true });
      await mkdir(dir);
    } catch (err) {
      if (isCode(err, 'EEXIST') && (await this.bucketExists(bucket))) return;
      throw fsError(err, 'createBucket', bucket);
    }
  }

  async deleteBucket(bucket: string): Promise<void> {
    const dir = this.bucketDir(bucket);
    await this.assertBucket(bucket);
    try {
      await rmdir(dir);
    } catch (err) {
      if (!isCode(err, 'ENOTEMPTY', 'EEXIST')) throw fsError(err, 'deleteBucket', bucket);
      // Only empty folders or stale temp files left: the bucket holds no object, so it may go.
      if (await holdsObject(dir, '', undefined)) {
        throw new StorageError('BUCKET_NOT_EMPTY', `bucket ${quoteName(bucket)} is not empty`, { bucket, cause: err });
      }
      await rm(dir, { recursive: true, force: true });
    }
  }

  async bucketExists(bucket: string): Promise<boolean> {
    const dir = this.bucketDir(bucket);
    try {
      return (await stat(dir)).isDirectory();
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return false;
      throw fsError(err, 'bucketExists', bucket);
    }
  }

  async listBuckets(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (isCode(err, 'ENOENT')) return []; // the root is made by the first createBucket
      throw fsError(err, 'listBuckets', this.root);
    }
  }
}

/**
 * Creates a driver storing buckets as folders under a root folder.
 *
 * @example
 * ```ts
 * const storage = fs({ root: '/data/burst' });
 * await storage.createBucket('results');
 * await storage.put('results', 'day1/summary.json', JSON.stringify(summary));
 * ```
 */
export function fs(options: FsOptions = {}): StorageDriver {
  return new FsDriver(validateStorageOptions(fsSpec, options));
}

/** Creates the driver from options already checked (by the registry, or where a worker's config was made). */
export function createFsDriver(options: FsOptions): StorageDriver {
  return new FsDriver(options);
}
