/**
 * Streamed results, the worker's half. A function may return a byte stream instead of a value: a Node
 * `Readable`, a web `ReadableStream`, or any `AsyncIterable` of `Uint8Array` (or string) chunks, such
 * as an async generator. The worker streams it into storage under the call's output key (multipart
 * on s3), hashing and counting the bytes as they pass, and sends back a small descriptor in place of
 * the value; the client turns that into a `StoredResult`. Memory stays bounded by the driver's part
 * buffers, whatever the size.
 *
 * Kept free of client-side imports: the worker bundle loads it.
 */
import { createHash } from 'node:crypto';
import { SerializationError, StorageError } from '../errors.js';
import { storageCapabilitiesOf } from '../storage/registry.js';
import type { Storage } from '../storage/storage.js';
import type { StorageConfig } from '../storage/types.js';

/** The property that marks a call's result as a descriptor of a stored stream. */
export const STORED_RESULT_MARK = '__burstStoredResult';

/** Where a streamed result was stored, and what it must hash to. Plain JSON. */
export interface StoredResultInfo {
  /** The storage driver's name (`'s3'`, `'fs'`, …): the URI scheme. */
  driver: string;
  bucket: string;
  key: string;
  /** Bytes stored. */
  size: number;
  /** SHA-256 of the bytes, lowercase hex. */
  sha256: string;
}

/** The value a worker sends back for a streamed result. */
export interface MarkedStoredResult {
  [STORED_RESULT_MARK]: StoredResultInfo;
}

/** What a function may return to stream its result into storage. */
export type StreamedValue =
  | NodeJS.ReadableStream
  | ReadableStream<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>;

/** True when a returned value is a byte stream to store rather than a value to serialize. */
export function isStreamedValue(value: unknown): value is StreamedValue {
  if (typeof value !== 'object' || value === null) return false;
  return (
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function' ||
    typeof (value as { getReader?: unknown }).getReader === 'function'
  );
}

/** The descriptor inside a call's result, when the result is a stored stream. */
export function storedResultInfo(value: unknown): StoredResultInfo | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const info = (value as Record<string, unknown>)[STORED_RESULT_MARK] as Partial<StoredResultInfo> | undefined;
  if (typeof info !== 'object' || info === null) return undefined;
  const ok =
    typeof info.driver === 'string' &&
    typeof info.bucket === 'string' &&
    typeof info.key === 'string' &&
    Number.isSafeInteger(info.size) &&
    typeof info.sha256 === 'string';
  return ok ? (info as StoredResultInfo) : undefined;
}

/** A web ReadableStream without async iteration, read through its reader. */
async function* fromReader(stream: ReadableStream<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Where one call's streamed result goes. */
export interface StreamTarget {
  storage: Storage;
  config: StorageConfig;
  bucket: string;
  key: string;
  /** Names the call in errors: `call 3 of job M000`. */
  where: string;
  signal: AbortSignal;
}

/**
 * Why a streamed result could not be stored when the fault is the storage's (not the function's):
 * the worker reports it as a storage error with this code (`RESULT_STORAGE_*`, or the storage's own
 * code), and the client revives it as the class that owns the code. Never seen by users itself.
 */
export class ResultStorageError extends StorageError {}

/** The storage and bucket for a streamed result; refuses, before reading the stream, a storage a worker process cannot write to. */
export function reachableStorage(
  config: StorageConfig | undefined,
  bucket: string | undefined,
  where: string,
): { config: StorageConfig; bucket: string } {
  if (!config || !bucket) {
    throw new ResultStorageError(
      'RESULT_STORAGE_UNREACHABLE',
      `${where} returned a stream, which is stored in the executor's storage, but this worker was started without a storage configuration and bucket`,
    );
  }
  if (storageCapabilitiesOf(config)?.processes === false) {
    throw new ResultStorageError(
      'RESULT_STORAGE_UNREACHABLE',
      `${where} returned a stream, which is stored in the executor's storage, but the "${config.driver}" storage lives inside the client process and a worker process cannot write to it; use the "fs" or "s3" storage to return streams`,
    );
  }
  return { config, bucket };
}

/**
 * Streams `source` into storage, hashing as it goes, and returns the descriptor. An error of the
 * source (the user's stream) is rethrown as it is; a failure of the storage is a
 * {@link ResultStorageError}; a chunk that is not bytes or a string is a SerializationError.
 */
export async function storeStreamedResult(source: StreamedValue, t: StreamTarget): Promise<MarkedStoredResult> {
  const hash = createHash('sha256');
  let size = 0;
  let sourceError: { error: unknown } | undefined;
  const iterable: AsyncIterable<unknown> =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<unknown>)
      : fromReader(source as ReadableStream<Uint8Array | string>);
  async function* hashed(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of iterable) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        if (!(bytes instanceof Uint8Array)) {
          throw new SerializationError(
            `${t.where} returned a stream whose chunk at byte ${size} is ${describe(chunk)}; a streamed result must yield Uint8Array (Buffer) or string chunks`,
            { path: 'result' },
          );
        }
        hash.update(bytes);
        size += bytes.byteLength;
        yield bytes;
      }
    } catch (err) {
      sourceError = { error: err };
      throw err;
    }
  }
  try {
    await t.storage.put(t.bucket, t.key, hashed(), { signal: t.signal });
  } catch (err) {
    const stream = source as { destroy?: () => void; readableEnded?: boolean };
    if (typeof stream.destroy === 'function' && !stream.readableEnded) stream.destroy(); // stop the producer
    if (sourceError) throw sourceError.error;
    if (t.signal.aborted) throw err;
    // The storage's own code travels to the client, which revives the class that owns it.
    const code = err instanceof StorageError ? err.code : 'RESULT_STORAGE_FAILED';
    throw new ResultStorageError(
      code,
      `${t.where} returned a stream that could not be stored at ${t.config.driver}://${t.bucket}/${t.key}: ${(err as Error)?.message ?? String(err)}`,
      { bucket: t.bucket, key: t.key, cause: err },
    );
  }
  return {
    [STORED_RESULT_MARK]: { driver: t.config.driver, bucket: t.bucket, key: t.key, size, sha256: hash.digest('hex') },
  };
}

function describe(chunk: unknown): string {
  if (chunk === null) return 'null';
  if (typeof chunk === 'object') return `an object (${(chunk as object).constructor?.name ?? 'Object'})`;
  return `a ${typeof chunk}`;
}
