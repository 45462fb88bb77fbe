/**
 * Reads of the s3 driver, split into parallel ranged GETs of `downloadPartSize`. The first GET learns
 * the object's size and ETag; the other parts carry `If-Match`, so an overwrite during the read is
 * detected ({@link ObjectChangedError}) instead of mixing two versions. From http endpoints the parts
 * go over direct sockets (s3-rawget.ts), falling back to the SDK part by part.
 */
import { Readable } from 'node:stream';
import type { S3Handle, S3Settings } from './client.js';
import { errorCode, httpStatus } from './errors.js';

/** Thrown internally when the object changed between the ranged reads of one read. */
export class ObjectChangedError extends Error {}

/** One object read: where it is and how. */
interface ReadContext {
  h: S3Handle;
  s: S3Settings;
  bucket: string;
  key: string;
  signal: AbortSignal | undefined;
}

/**
 * One ranged GET through the SDK. The body goes straight into `target` at `at` when given, else it is
 * collected. Returns undefined when the range starts at or past the end (HTTP 416).
 */
async function rangeGet(
  c: ReadContext,
  range: string,
  ifMatch: string | undefined,
  target?: { buffer: Buffer; at: number },
): Promise<{ bytes: Uint8Array; received: number; contentRange?: string; etag?: string } | undefined> {
  try {
    const out = await c.h.client.send(
      new c.h.sdk.GetObjectCommand({
        Bucket: c.bucket,
        Key: c.key,
        Range: range,
        ...(ifMatch ? { IfMatch: ifMatch } : {}),
      }),
      c.signal ? { abortSignal: c.signal } : {},
    );
    const meta = {
      ...(out.ContentRange ? { contentRange: out.ContentRange } : {}),
      ...(out.ETag ? { etag: out.ETag } : {}),
    };
    const body = out.Body as (AsyncIterable<Buffer> & { destroy?: () => void }) | undefined;
    if (!body) return { bytes: new Uint8Array(0), received: 0, ...meta };
    if (!target) {
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of body) {
        chunks.push(chunk);
        n += chunk.byteLength;
      }
      return { bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, n), received: n, ...meta };
    }
    let at = target.at;
    for await (const chunk of body) {
      if (at + chunk.byteLength > target.buffer.byteLength) {
        body.destroy?.();
        throw new ObjectChangedError(c.key);
      }
      chunk.copy(target.buffer, at);
      at += chunk.byteLength;
    }
    return { bytes: target.buffer.subarray(target.at, at), received: at - target.at, ...meta };
  } catch (err) {
    if (httpStatus(err) === 416 || errorCode(err) === 'InvalidRange') return undefined;
    throw err;
  }
}

/** A presigned GET URL of an object (signed locally; no request). */
async function presignGet(c: ReadContext): Promise<string> {
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  return getSignedUrl(c.h.client, new c.h.sdk.GetObjectCommand({ Bucket: c.bucket, Key: c.key }), { expiresIn: 3600 });
}

/** The first part of a read and what it tells about the rest. */
interface FirstPart {
  bytes: Uint8Array;
  /** The end (exclusive) of the bytes to read, clamped to the object. */
  stop: number;
  etag: string | undefined;
  /** Fetches bytes `[o, e)` into `target` at `at` (direct socket first, then the SDK). */
  fetch(o: number, e: number, target: Buffer, at: number): Promise<void>;
}

/** Reads the first part of `[start, end)`; undefined when the range is past the end of the object. */
async function firstPart(c: ReadContext, start: number, end: number | undefined): Promise<FirstPart | undefined> {
  const part = c.s.downloadPartSize;
  const firstEnd = end === undefined ? start + part : Math.min(end, start + part);
  const first = await rangeGet(c, `bytes=${start}-${firstEnd - 1}`, undefined);
  if (!first) return undefined;
  const total = first.contentRange ? Number(/\/(\d+)$/.exec(first.contentRange)?.[1]) : Number.NaN;
  // A server that ignores Range sends the whole object: then there is nothing more to read.
  const stop = Number.isNaN(total) ? start + first.received : end === undefined ? total : Math.min(end, total);
  let direct: Promise<URL | undefined> | undefined;
  const fetch = async (o: number, e: number, target: Buffer, at: number) => {
    direct ??=
      c.s.directReads && c.s.endpoint?.startsWith('http://')
        ? presignGet(c).then((u) => new URL(u))
        : Promise.resolve(undefined);
    const url = await direct;
    if (url) {
      const request = {
        url,
        start: o,
        end: e,
        target,
        at,
        etag: first.etag,
        idleTimeoutMs: c.s.requestTimeoutMs,
        signal: c.signal,
      };
      // node:net loads with the first raw ranged read, not when the package is imported.
      const { rawRangeInto } = await import('./rawget.js');
      if (await rawRangeInto(request)) return;
    }
    // Through the SDK: its retries and error mapping (a 412 here means the object changed).
    const got = await rangeGet(c, `bytes=${o}-${e - 1}`, first.etag, { buffer: target, at }).catch((err: unknown) => {
      if (httpStatus(err) === 412 || errorCode(err) === 'PreconditionFailed') throw new ObjectChangedError(c.key);
      throw err;
    });
    if (!got || got.received !== e - o) throw new ObjectChangedError(c.key);
  };
  return { bytes: first.bytes.subarray(0, stop - start), stop, etag: first.etag, fetch };
}

/** Reads bytes `[start, end)` of an object (`end` undefined: to its end) into one buffer. */
export async function downloadRange(
  h: S3Handle,
  s: S3Settings,
  bucket: string,
  key: string,
  start: number,
  end: number | undefined,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const first = await firstPart({ h, s, bucket, key, signal }, start, end);
  if (!first) return new Uint8Array(0);
  if (start + first.bytes.byteLength >= first.stop) return first.bytes;
  const out = Buffer.allocUnsafe(first.stop - start);
  out.set(first.bytes, 0);
  const offsets: number[] = [];
  for (let o = start + first.bytes.byteLength; o < first.stop; o += s.downloadPartSize) offsets.push(o);
  let next = 0;
  const worker = async () => {
    while (next < offsets.length) {
      const o = offsets[next++] as number;
      await first.fetch(o, Math.min(first.stop, o + s.downloadPartSize), out, o - start);
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.downloadConcurrency, offsets.length) }, worker));
  return out;
}

/**
 * Streams bytes `[start, end)` of an object, fetching up to `downloadConcurrency` parts ahead in
 * parallel and emitting them in order. Errors of the first part reject; later ones error the stream.
 */
export async function streamRange(
  h: S3Handle,
  s: S3Settings,
  bucket: string,
  key: string,
  start: number,
  end: number | undefined,
  signal: AbortSignal | undefined,
  mapError: (err: unknown) => Error,
): Promise<Readable> {
  const cancel = new AbortController();
  const onAbort = () => cancel.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const first = await firstPart({ h, s, bucket, key, signal: cancel.signal }, start, end).catch((err: unknown) => {
    signal?.removeEventListener('abort', onAbort);
    throw err;
  });
  async function* parts(): AsyncGenerator<Uint8Array> {
    const inflight: Array<Promise<Buffer>> = [];
    try {
      if (!first) return;
      if (first.bytes.byteLength > 0) yield first.bytes;
      let offset = start + first.bytes.byteLength;
      const launch = () => {
        const o = offset;
        const e = Math.min(first.stop, o + s.downloadPartSize);
        offset = e;
        const buffer = Buffer.allocUnsafe(e - o);
        const p = first.fetch(o, e, buffer, 0).then(() => buffer);
        p.catch(() => undefined); // awaited below, in order; this only marks it handled meanwhile
        inflight.push(p);
      };
      while (inflight.length < s.downloadConcurrency && offset < first.stop) launch();
      while (inflight.length > 0) {
        const buffer = await (inflight.shift() as Promise<Buffer>);
        if (offset < first.stop) launch();
        yield buffer;
      }
    } catch (err) {
      throw mapError(err);
    } finally {
      cancel.abort(); // the consumer stopped early or a part failed: stop the parts still running
      signal?.removeEventListener('abort', onAbort);
    }
  }
  return Readable.from(parts(), { objectMode: false, highWaterMark: 1 });
}
