/**
 * Helpers shared by drivers for request bodies (bytes, strings, streams) and byte ranges.
 */
import { Readable } from 'node:stream';
import { CancelledError, StorageError } from '../errors.js';
import { quoteName } from './keys.js';
import type { ByteRange, StorageBody } from './types.js';

/** The body as bytes when its size is known without reading it (bytes or string), else undefined. */
export function knownBytes(body: StorageBody): Uint8Array | undefined {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  return undefined;
}

/** The body as a sequence of byte chunks (strings from an encoded stream become UTF-8). */
export async function* bodyChunks(body: StorageBody): AsyncGenerator<Uint8Array> {
  const bytes = knownBytes(body);
  if (bytes) {
    yield bytes;
    return;
  }
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

/**
 * Reads the whole body into one buffer, reporting progress. When `signal` fires the read stops at
 * once, even if the body is waiting for data, and rejects with a {@link CancelledError}.
 */
export async function collectBody(
  body: StorageBody,
  where: { bucket: string; key: string },
  options: { signal?: AbortSignal | undefined; onProgress?: ((bytes: number) => void) | undefined } = {},
): Promise<Buffer> {
  const { signal } = options;
  throwIfAborted(signal, where);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const iterator = bodyChunks(body);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(signal as AbortSignal, where));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) break;
      chunks.push(next.value);
      total += next.value.byteLength;
      options.onProgress?.(total);
    }
  } catch (err) {
    if (signal?.aborted) throw abortedError(signal, where);
    throw err;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) void iterator.return(undefined).catch(() => undefined);
    if (
      !(body instanceof Uint8Array) &&
      typeof body !== 'string' &&
      signal?.aborted &&
      typeof (body as { destroy?: unknown }).destroy === 'function'
    ) {
      (body as { destroy: () => void }).destroy();
    }
  }
  throwIfAborted(signal, where);
  return Buffer.concat(chunks, total);
}

/** Throws a {@link CancelledError} naming the object when the upload's signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, where: { bucket: string; key: string }): void {
  if (signal?.aborted) throw abortedError(signal, where);
}

/** The error an aborted upload rejects with. */
export function abortedError(signal: AbortSignal, where: { bucket: string; key: string }): CancelledError {
  return new CancelledError(`upload of ${quoteName(where.key)} to bucket ${quoteName(where.bucket)} was aborted`, {
    bucket: where.bucket,
    key: where.key,
    cause: signal.reason,
  });
}

/**
 * Validates a range: `offset` and `length` must be non-negative safe integers. Refused before any I/O
 * with a {@link StorageError} of code `INVALID_RANGE`.
 */
export function assertValidRange(bucket: string, key: string, range: ByteRange | undefined): void {
  if (range === undefined) return;
  const bad = (what: string): never => {
    throw new StorageError(
      'INVALID_RANGE',
      `invalid range ${JSON.stringify(range)} for object ${quoteName(key)} in bucket ${quoteName(bucket)}: ${what}`,
      { bucket, key },
    );
  };
  if (typeof range !== 'object' || range === null) bad('must be an object { offset, length? }');
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) bad('offset must be a non-negative integer');
  if (range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 0)) {
    bad('length must be a non-negative integer');
  }
}

/**
 * The bytes `[start, end)` a range selects in an object of `size` bytes. Ranges are clamped to the
 * object like `Uint8Array.slice`: a range past the end yields fewer bytes, or none.
 */
export function clampRange(size: number, range: ByteRange | undefined): { start: number; end: number } {
  if (!range) return { start: 0, end: size };
  const start = Math.min(range.offset, size);
  const end = range.length === undefined ? size : Math.min(size, range.offset + range.length);
  return { start, end: Math.max(start, end) };
}

/** A readable stream over one buffer (what drivers without native streams return from getStream). */
export function bufferStream(bytes: Uint8Array): Readable {
  return Readable.from(bytes.byteLength === 0 ? [] : [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)], {
    objectMode: false,
  });
}
