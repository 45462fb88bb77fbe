/**
 * Large transfers of the s3 driver: uploads (one PutObject below the multipart threshold, else a
 * multipart upload, see s3-multipart.ts) and reads split into parallel ranged GETs.
 */
import { ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { abortedError, bodyChunks, knownBytes } from './body.js';
import type { S3Handle, S3Settings } from './s3-client.js';
import { bytesSource, fileSource, multipartUpload, partSizeFor, streamSource } from './s3-multipart.js';
import { rawRangeInto } from './s3-rawget.js';
import { errorCode, httpStatus } from './s3-errors.js';
import type { PutOptions, StorageBody } from './types.js';

export { partSizeFor };

/** Strips the quotes S3 puts around ETags. */
export function cleanEtag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  const e = etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return e === '' ? undefined : e;
}

/**
 * Reads the start of a stream, up to `limit` bytes. Returns the chunks read and, when the stream has
 * more, an iterator over the rest.
 */
async function peek(it: AsyncIterator<Uint8Array>, limit: number): Promise<{ head: Uint8Array[]; size: number; more: boolean }> {
  const head: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const next = await it.next();
    if (next.done) return { head, size, more: false };
    head.push(next.value);
    size += next.value.byteLength;
  }
  return { head, size, more: true };
}

/** An iterator that yields `head` first, then the rest of `it`. */
function prepend(head: Uint8Array[], it: AsyncIterator<Uint8Array>): AsyncIterator<Uint8Array> {
  let i = 0;
  return { next: async () => (i < head.length ? { done: false, value: head[i++] as Uint8Array } : it.next()) };
}

/** A not-yet-read `fs.createReadStream(path)` of a whole file: uploaded by reading the file directly. */
function wholeFileStream(body: StorageBody): ReadStream | undefined {
  if (!(body instanceof ReadStream) || typeof body.path !== 'string') return undefined;
  const r = body as ReadStream & { start?: number; end?: number };
  return r.bytesRead === 0 && (r.start === undefined || r.start === 0) && (r.end === undefined || r.end === Infinity) ? body : undefined;
}

/** Uploads a body; returns the ETag (empty when the server gave none, as Ceph after multipart). */
export async function uploadObject(
  h: S3Handle,
  s: S3Settings,
  bucket: string,
  key: string,
  body: StorageBody,
  options: PutOptions,
): Promise<string | undefined> {
  const where = { bucket, key };
  const params = { Bucket: bucket, Key: key, ...(options.contentType ? { ContentType: options.contentType } : {}) };
  const putObject = async (data: Uint8Array) => {
    const out = await h.client.send(
      new h.sdk.PutObjectCommand({ ...params, Body: data, ContentLength: data.byteLength }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    options.onProgress?.(data.byteLength);
    return out.ETag;
  };
  const bytes = knownBytes(body);
  if (bytes) {
    if (bytes.byteLength < s.multipartThreshold) return putObject(bytes);
    return multipartUpload(h, s, params, bytesSource(bytes, partSizeFor(bytes.byteLength, s.partSize)), partSizeFor(bytes.byteLength, s.partSize), options);
  }
  const file = wholeFileStream(body);
  if (file) {
    file.destroy(); // read the file ourselves, in parts, straight into the upload buffers
    const handle = await open(file.path as string, 'r');
    try {
      const size = (await handle.stat()).size;
      if (size < s.multipartThreshold) return await putObject(await handle.readFile());
      return await multipartUpload(h, s, params, fileSource(handle, size), partSizeFor(size, s.partSize), options);
    } finally {
      await handle.close();
    }
  }
  const it = bodyChunks(body)[Symbol.asyncIterator]();
  try {
    const { head, size, more } = await peek(it, s.multipartThreshold);
    if (options.signal?.aborted) throw abortedError(options.signal, where);
    if (!more) return await putObject(head.length === 1 ? (head[0] as Uint8Array) : Buffer.concat(head, size));
    return await multipartUpload(h, s, params, streamSource(prepend(head, it)), s.partSize, options);
  } finally {
    if (body instanceof Readable && !body.readableEnded) body.destroy();
  }
}

/**
 * One ranged GET. The body is copied straight into `target` at `at` when given (no intermediate
 * buffers: this is most of the cost of a large read), else collected. Returns undefined when the
 * range starts at or past the end of the object (HTTP 416).
 */
async function rangeGet(
  h: S3Handle,
  bucket: string,
  key: string,
  range: string,
  ifMatch: string | undefined,
  signal: AbortSignal | undefined,
  target?: { buffer: Buffer; at: number },
): Promise<{ bytes: Uint8Array; received: number; contentRange?: string; etag?: string } | undefined> {
  try {
    const out = await h.client.send(
      new h.sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: range, ...(ifMatch ? { IfMatch: ifMatch } : {}) }),
      signal ? { abortSignal: signal } : {},
    );
    const meta = { ...(out.ContentRange ? { contentRange: out.ContentRange } : {}), ...(out.ETag ? { etag: out.ETag } : {}) };
    const body = out.Body as (AsyncIterable<Buffer> & { destroy?: () => void }) | undefined;
    if (!body) return { bytes: new Uint8Array(0), received: 0, ...meta };
    if (!target) {
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of body) {
        chunks.push(c);
        n += c.byteLength;
      }
      return { bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, n), received: n, ...meta };
    }
    let at = target.at;
    for await (const c of body) {
      if (at + c.byteLength > target.buffer.byteLength) {
        body.destroy?.();
        throw new ObjectChangedError(key);
      }
      c.copy(target.buffer, at);
      at += c.byteLength;
    }
    return { bytes: target.buffer.subarray(target.at, at), received: at - target.at, ...meta };
  } catch (err) {
    if (httpStatus(err) === 416 || errorCode(err) === 'InvalidRange') return undefined;
    throw err;
  }
}

/** A presigned GET URL of an object (signed locally; no request). */
async function presignGet(h: S3Handle, bucket: string, key: string): Promise<string> {
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  return getSignedUrl(h.client, new h.sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 3600 });
}

/** Thrown internally when the object changed between the ranged reads of one `get`. */
export class ObjectChangedError extends Error {}

/**
 * Reads bytes `[start, end)` of an object (`end` undefined: to the end) with parallel ranged GETs of
 * `downloadPartSize`. The first GET learns the size and ETag; the others carry `If-Match`, so a
 * concurrent overwrite is detected ({@link ObjectChangedError}) instead of mixing two versions.
 */
export async function downloadRange(
  h: S3Handle,
  s: S3Settings,
  bucket: string,
  key: string,
  start: number,
  end: number | undefined,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const part = s.downloadPartSize;
  const firstEnd = end === undefined ? start + part : Math.min(end, start + part);
  const first = await rangeGet(h, bucket, key, `bytes=${start}-${firstEnd - 1}`, undefined, signal);
  if (!first) return new Uint8Array(0);
  const total = first.contentRange ? Number(/\/(\d+)$/.exec(first.contentRange)?.[1]) : undefined;
  if (total === undefined || Number.isNaN(total)) return first.bytes; // server ignored the range: whole body
  const stop = end === undefined ? total : Math.min(end, total);
  if (start + first.received >= stop) return first.bytes;
  const out = Buffer.allocUnsafe(stop - start);
  out.set(first.bytes, 0);
  const offsets: number[] = [];
  for (let o = start + first.received; o < stop; o += part) offsets.push(o);
  const direct = s.directReads && s.endpoint?.startsWith('http://') ? new URL(await presignGet(h, bucket, key)) : undefined;
  let next = 0;
  const worker = async () => {
    while (next < offsets.length) {
      const o = offsets[next++] as number;
      const e = Math.min(stop, o + part);
      if (direct) {
        const request = { url: direct, start: o, end: e, target: out, at: o - start, etag: first.etag, idleTimeoutMs: s.requestTimeoutMs, signal };
        if (await rawRangeInto(request)) continue;
      }
      // Through the SDK: its retries and error mapping (a 412 here means the object changed).
      const got = await rangeGet(h, bucket, key, `bytes=${o}-${e - 1}`, first.etag, signal, { buffer: out, at: o - start }).catch((err: unknown) => {
        if (httpStatus(err) === 412 || errorCode(err) === 'PreconditionFailed') throw new ObjectChangedError(key);
        throw err;
      });
      if (!got || got.received !== e - o) throw new ObjectChangedError(key);
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.downloadConcurrency, offsets.length) }, worker));
  return out;
}
