/**
 * A streamed result of another call, as a call that takes it as input sees it: a handle on the bytes
 * in storage with their size and SHA-256, read as a stream and checked on the way (the worker-side
 * twin of the client's `StoredResult`; same fields and methods).
 */
import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';
import type { ListEntry } from '../storage/types.js';
import type { StoredResultInfo } from './stream-result.js';

/** What reading other calls' results needs of a storage: the driver or `ctx.storage` both have it. */
export interface RefStorage {
  get(bucket: string, key: string): Promise<Uint8Array>;
  getStream(bucket: string, key: string): Promise<Readable>;
  list(bucket: string, prefix?: string): AsyncIterable<ListEntry>;
}

/** The stored bytes of another call's streamed result. */
export class UpstreamStoredResult {
  /** Where the bytes are, e.g. `s3://burst/burst/jobs/<executor>/M000/output/00003.1`. */
  readonly uri: string;
  readonly bucket: string;
  readonly key: string;
  /** Size in bytes, as counted by the worker that stored them. */
  readonly size: number;
  /** SHA-256 of the bytes (lowercase hex). */
  readonly sha256: string;
  readonly #storage: RefStorage;

  constructor(info: StoredResultInfo, storage: RefStorage) {
    this.uri = `${info.driver}://${info.bucket}/${info.key}`;
    this.bucket = info.bucket;
    this.key = info.key;
    this.size = info.size;
    this.sha256 = info.sha256;
    this.#storage = storage;
  }

  /** The bytes as a stream; fails with an IntegrityError when their size or SHA-256 differ. */
  async stream(): Promise<Readable> {
    const source = await this.#storage.getStream(this.bucket, this.key);
    return pipeline(source, new Check(this), () => undefined);
  }

  /** The bytes in one buffer (checked as {@link stream}). */
  async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.stream()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The bytes decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  toJSON(): { uri: string; size: number; sha256: string } {
    return { uri: this.uri, size: this.size, sha256: this.sha256 };
  }
}

class Check extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;
  constructor(private readonly expected: UpstreamStoredResult) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expected.size) return callback(this.fail(`more than its ${this.expected.size} bytes arrived`));
    this.hash.update(chunk);
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    if (this.seen !== this.expected.size)
      return callback(this.fail(`${this.seen} bytes arrived, ${this.expected.size} were stored`));
    const got = this.hash.digest('hex');
    if (got !== this.expected.sha256)
      return callback(this.fail(`its SHA-256 is ${got}, ${this.expected.sha256} was stored`));
    callback();
  }
  private fail(why: string): IntegrityError {
    const { uri, bucket, key } = this.expected;
    return new IntegrityError(`the stored result ${uri} does not match what its worker stored: ${why}`, {
      bucket,
      key,
    });
  }
}
