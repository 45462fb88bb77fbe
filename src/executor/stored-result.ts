/**
 * Streamed results, the client's half: a call whose function returned a stream resolves to a
 * {@link StoredResult}, a handle on the bytes the worker stored, with their size and SHA-256. Reading
 * it streams from storage and checks both, so a result changed or cut in storage is an error, never
 * silently wrong data.
 */
import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { IntegrityError, type ErrorContext } from '../errors.js';
import { formatStorageUri } from '../storage/uri.js';
import type { StorageDriver } from '../storage/types.js';
import { storedResultInfo, type StoredResultInfo, type StreamedValue } from '../worker/stream-result.js';

/**
 * What a call resolves to: `StoredResult` when the function returned a stream (a Node `Readable`, a
 * web `ReadableStream` or an `AsyncIterable` of bytes), else the function's (awaited) return value.
 */
export type CallResult<R> = Awaited<R> extends StreamedValue ? StoredResult : Awaited<R>;

/**
 * The result of a call whose function returned a stream: the bytes live in the executor's storage
 * under the job (`burst/jobs/<executor>/<job>/output/<call>`), so `fexec.clean()` removes them. They
 * were stored in parts (multipart on s3) as the function produced them; neither the worker nor the
 * client holds them whole unless you call {@link bytes}.
 *
 * `stream()` and `bytes()` check what arrives against {@link size} and {@link sha256} and fail with an
 * {@link IntegrityError} (code `'INTEGRITY'`) when it differs. Read it before `fexec.close()` or pass
 * {@link uri} to a `Storage` of your own.
 *
 * @example
 * ```ts
 * export async function* render(n: number): AsyncGenerator<Uint8Array> {
 *   for (let i = 0; i < n; i++) yield Buffer.alloc(1 << 20, i);   // n MiB, never all in memory
 * }
 * const [out] = await fexec.getResult(await fexec.map(render, [1024]));
 * console.log(out.size, out.sha256, out.uri);
 * await pipeline(await out.stream(), createWriteStream('render.bin'));
 * ```
 */
export class StoredResult {
  /** Where the bytes are, e.g. `s3://burst/burst/jobs/<executor>/M000/output/00003`. */
  readonly uri: string;
  readonly bucket: string;
  readonly key: string;
  /** Size in bytes, as counted by the worker. */
  readonly size: number;
  /** SHA-256 of the bytes (lowercase hex), as computed by the worker while storing them. */
  readonly sha256: string;
  // Private (not an own enumerable property): the driver holds credentials and sockets.
  readonly #driver: StorageDriver;
  readonly #context: ErrorContext;

  /** @internal */
  constructor(info: StoredResultInfo, driver: StorageDriver, context: ErrorContext = {}) {
    this.uri = formatStorageUri({ scheme: info.driver, bucket: info.bucket, key: info.key });
    this.bucket = info.bucket;
    this.key = info.key;
    this.size = info.size;
    this.sha256 = info.sha256;
    this.#driver = driver;
    this.#context = context;
  }

  /**
   * The bytes as a stream, read from storage as it is consumed. The stream fails with an
   * {@link IntegrityError} when the bytes that arrive are more or fewer than {@link size}, or their
   * SHA-256 differs from {@link sha256}.
   */
  async stream(): Promise<Readable> {
    const source = await this.#driver.getStream(this.bucket, this.key);
    const check = new IntegrityCheck(this.size, this.sha256, (why) => this.integrityError(why));
    return pipeline(source, check, () => undefined);
  }

  /** The bytes in one buffer (checked as {@link stream}); for results that fit in memory. */
  async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const chunk of await this.stream()) {
      chunks.push(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, n);
  }

  /** The bytes decoded as UTF-8 (checked as {@link stream}). */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** A summary for logs and JSON. */
  toJSON(): { uri: string; size: number; sha256: string } {
    return { uri: this.uri, size: this.size, sha256: this.sha256 };
  }

  private integrityError(why: string): IntegrityError {
    return new IntegrityError(`the stored result ${this.uri} does not match what its worker stored: ${why}`, {
      ...this.#context,
      bucket: this.bucket,
      key: this.key,
    });
  }
}

/** Passes bytes through, counting and hashing them; fails the stream when they differ from the expected. */
class IntegrityCheck extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;

  constructor(
    private readonly size: number,
    private readonly sha256: string,
    private readonly fail: (why: string) => IntegrityError,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    // Fail as soon as there are too many bytes rather than after reading them all.
    if (this.seen > this.size) return callback(this.fail(`more than its ${this.size} bytes arrived`));
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.seen !== this.size) return callback(this.fail(`${this.seen} bytes arrived, ${this.size} were stored`));
    const got = this.hash.digest('hex');
    if (got !== this.sha256) return callback(this.fail(`its SHA-256 is ${got}, ${this.sha256} was stored`));
    callback();
  }
}

/** A call's result as the future yields it: a descriptor of a stored stream becomes a {@link StoredResult}. */
export function reviveResult(
  value: unknown,
  driver: StorageDriver,
  context: ErrorContext | (() => ErrorContext),
): unknown {
  const info = storedResultInfo(value);
  // The context is built only for a stored result: a plain value (nearly every call) costs nothing.
  return info ? new StoredResult(info, driver, typeof context === 'function' ? context() : context) : value;
}
