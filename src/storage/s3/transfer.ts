/**
 * Uploads of the s3 driver: one PutObject below the multipart threshold, else a multipart upload
 * (s3-multipart.ts); whole files are read straight into the part buffers.
 */
import { ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { abortedError, bodyChunks, knownBytes } from '../body.js';
import type { S3Handle, S3Settings } from './client.js';
import { bytesSource, fileSource, multipartUpload, partSizeFor, streamSource } from './multipart.js';
import type { PutOptions, StorageBody } from '../types.js';

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
async function peek(
  it: AsyncIterator<Uint8Array>,
  limit: number,
): Promise<{ head: Uint8Array[]; size: number; more: boolean }> {
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
  return r.bytesRead === 0 && (r.start === undefined || r.start === 0) && (r.end === undefined || r.end === Infinity)
    ? body
    : undefined;
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
    return multipartUpload(
      h,
      s,
      params,
      bytesSource(bytes, partSizeFor(bytes.byteLength, s.partSize)),
      partSizeFor(bytes.byteLength, s.partSize),
      options,
    );
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
