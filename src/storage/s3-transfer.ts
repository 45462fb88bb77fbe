/**
 * Large transfers of the s3 driver: uploads (one PutObject below the multipart threshold, else a
 * multipart upload with @aws-sdk/lib-storage) and reads split into parallel ranged GETs.
 */
import { Readable } from 'node:stream';
import { abortedError, bodyChunks, knownBytes } from './body.js';
import type { S3Handle, S3Settings } from './s3-client.js';
import { errorCode, httpStatus } from './s3-errors.js';
import type { PutOptions, StorageBody } from './types.js';

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;

/** The part size for a body: the configured one, raised so that `size` bytes fit in 10,000 parts. */
export function partSizeFor(size: number | undefined, configured: number): number {
  if (size === undefined) return configured;
  const needed = Math.ceil(size / MAX_PARTS / MiB) * MiB;
  return Math.max(configured, needed);
}

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
async function peek(body: StorageBody, limit: number): Promise<{ head: Uint8Array[]; size: number; rest?: AsyncIterator<Uint8Array> }> {
  const it = bodyChunks(body)[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const next = await it.next();
    if (next.done) return { head, size };
    head.push(next.value);
    size += next.value.byteLength;
  }
  return { head, size, rest: it };
}

async function* concat(head: Uint8Array[], rest: AsyncIterator<Uint8Array>, counter: { bytes: number }): AsyncGenerator<Uint8Array> {
  for (const chunk of head) {
    counter.bytes += chunk.byteLength;
    yield chunk;
  }
  for (let next = await rest.next(); !next.done; next = await rest.next()) {
    counter.bytes += next.value.byteLength;
    yield next.value;
  }
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
  const bytes = knownBytes(body);
  const common = { Bucket: bucket, Key: key, ...(options.contentType ? { ContentType: options.contentType } : {}) };
  let source: Uint8Array | Readable;
  let size: number | undefined;
  const counter = { bytes: 0 };
  if (bytes) {
    source = bytes;
    size = bytes.byteLength;
  } else {
    const { head, size: headSize, rest } = await peek(body, s.multipartThreshold);
    if (options.signal?.aborted) throw abortedError(options.signal, where);
    if (!rest) {
      source = head.length === 1 ? (head[0] as Uint8Array) : Buffer.concat(head);
      size = headSize;
    } else {
      source = Readable.from(concat(head, rest, counter), { objectMode: false, highWaterMark: MiB });
    }
  }
  if (size !== undefined && size < s.multipartThreshold) {
    const out = await h.client.send(
      new h.sdk.PutObjectCommand({ ...common, Body: source as Uint8Array, ContentLength: size }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    options.onProgress?.(size);
    return out.ETag;
  }
  return multipart(h, s, common, source, size, counter, options);
}

async function multipart(
  h: S3Handle,
  s: S3Settings,
  params: { Bucket: string; Key: string; ContentType?: string },
  source: Uint8Array | Readable,
  size: number | undefined,
  counter: { bytes: number },
  options: PutOptions,
): Promise<string | undefined> {
  const where = { bucket: params.Bucket, key: params.Key };
  const { Upload } = await import('@aws-sdk/lib-storage');
  const upload = new Upload({
    client: h.client,
    params: { ...params, Body: source },
    partSize: partSizeFor(size, s.partSize),
    queueSize: s.uploadConcurrency,
    leavePartsOnError: false,
    abortController: new AbortController(),
  });
  let sent = 0;
  upload.on('httpUploadProgress', (p) => {
    if (p.loaded !== undefined && p.loaded > sent) options.onProgress?.((sent = p.loaded));
  });
  const onAbort = () => {
    void upload.abort();
    if (source instanceof Readable) source.destroy();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const out = await upload.done();
    options.onProgress?.(size ?? counter.bytes);
    return out.ETag;
  } catch (err) {
    // lib-storage rejects an aborted upload before its own cleanup; abort the upload id here too so
    // that no parts are left behind (a second abort is harmless).
    if (upload.uploadId) {
      const abort = new h.sdk.AbortMultipartUploadCommand({ ...where2params(where), UploadId: upload.uploadId });
      await h.client.send(abort).catch(() => undefined);
    }
    if (options.signal?.aborted) throw abortedError(options.signal, where);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (source instanceof Readable && !source.readableEnded) source.destroy();
  }
}

function where2params(where: { bucket: string; key: string }): { Bucket: string; Key: string } {
  return { Bucket: where.bucket, Key: where.key };
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
  let next = 0;
  const worker = async () => {
    while (next < offsets.length) {
      const o = offsets[next++] as number;
      const e = Math.min(stop, o + part);
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
