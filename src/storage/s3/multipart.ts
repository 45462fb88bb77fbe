/**
 * Multipart upload for the s3 driver. Each uploader owns one part-sized buffer, allocated once and
 * refilled for every part it sends: no per-part allocation or concatenation (on a small machine
 * the page faults and garbage of fresh 16 MiB buffers cost more than the network). Byte bodies are
 * sent as views, files are read straight into the buffers, streams are copied into them once.
 *
 * On failure or abort, in-flight parts are cancelled, the upload id is aborted, and only then does the
 * promise reject: no parts stay behind and no object appears.
 */
import type { FileHandle } from 'node:fs/promises';
import { abortedError } from '../body.js';
import { StorageError } from '../../errors.js';
import type { S3Handle, S3Settings } from './client.js';
import type { PutOptions } from '../types.js';

const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;

/** The part size for a body: the configured one, raised so that `size` bytes fit in 10,000 parts. */
export function partSizeFor(size: number | undefined, configured: number): number {
  if (size === undefined) return configured;
  const needed = Math.ceil(size / MAX_PARTS / MiB) * MiB;
  return Math.max(configured, needed);
}

/** Where parts come from. `next` is called by one uploader at a time, in part order. */
export interface PartSource {
  /** Whether `next` fills the buffer it is given (else it returns views of its own bytes). */
  readonly fillsBuffer: boolean;
  /** The next part (at most `buffer.length` bytes), or undefined at the end. */
  next(buffer: Buffer): Promise<Uint8Array | undefined>;
}

/** Parts as views of bytes already in memory. */
export function bytesSource(bytes: Uint8Array, partSize: number): PartSource {
  let at = 0;
  return {
    fillsBuffer: false,
    async next() {
      if (at >= bytes.byteLength) return undefined;
      const part = bytes.subarray(at, Math.min(bytes.byteLength, at + partSize));
      at += part.byteLength;
      return part;
    },
  };
}

/** Parts read from an open file, straight into the uploader's buffer. */
export function fileSource(handle: FileHandle, size: number): PartSource {
  let at = 0;
  return {
    fillsBuffer: true,
    async next(buffer) {
      let filled = 0;
      while (filled < buffer.byteLength && at < size) {
        const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.byteLength - filled, size - at), at);
        if (bytesRead === 0) break;
        filled += bytesRead;
        at += bytesRead;
      }
      return filled === 0 ? undefined : buffer.subarray(0, filled);
    },
  };
}

/** Parts copied from a stream of chunks; a chunk that straddles two parts is split. */
export function streamSource(chunks: AsyncIterator<Uint8Array>): PartSource {
  let pending: Uint8Array | undefined;
  let done = false;
  return {
    fillsBuffer: true,
    async next(buffer) {
      let filled = 0;
      while (filled < buffer.byteLength) {
        if (!pending || pending.byteLength === 0) {
          if (done) break;
          const r = await chunks.next();
          if (r.done) {
            done = true;
            break;
          }
          pending = r.value;
        }
        const n = Math.min(pending.byteLength, buffer.byteLength - filled);
        buffer.set(pending.subarray(0, n), filled);
        pending = pending.subarray(n);
        filled += n;
      }
      return filled === 0 ? undefined : buffer.subarray(0, filled);
    },
  };
}

/**
 * Uploads the parts of `source` as one object. Returns the ETag of CompleteMultipartUpload (empty on
 * Ceph, whose caller heads the object instead).
 */
export async function multipartUpload(
  h: S3Handle,
  s: S3Settings,
  params: { Bucket: string; Key: string; ContentType?: string },
  source: PartSource,
  partSize: number,
  options: PutOptions,
): Promise<string | undefined> {
  const where = { bucket: params.Bucket, key: params.Key };
  const cancel = new AbortController();
  const onAbort = () => cancel.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Rejects when the upload is cancelled, so an uploader waiting on a stalled body stops too.
  const cancelled = new Promise<never>((_, reject) =>
    cancel.signal.addEventListener('abort', () => reject(cancel.signal.reason), { once: true }),
  );
  cancelled.catch(() => undefined);
  let uploadId: string | undefined;
  const parts: Array<{ PartNumber: number; ETag: string }> = [];
  let reading: Promise<unknown> = Promise.resolve();
  let numbered = 0;
  let sent = 0;
  // Parts are read in order by one uploader at a time; sending overlaps.
  const nextPart = (buffer: Buffer) => {
    const p = reading.then(async () => {
      const data = await source.next(buffer);
      return data && { number: ++numbered, data };
    });
    reading = p.catch(() => undefined);
    return p;
  };
  const uploader = async (buffer: Buffer) => {
    for (;;) {
      if (cancel.signal.aborted) return;
      const part = await Promise.race([nextPart(buffer), cancelled]);
      if (!part) return;
      if (part.number > MAX_PARTS)
        throw new StorageError(
          'TOO_MANY_PARTS',
          `object ${JSON.stringify(params.Key)} in bucket ${JSON.stringify(params.Bucket)} needs more than ${MAX_PARTS} parts of ${partSize} bytes: raise s3.partSize`,
          { bucket: params.Bucket, key: params.Key },
        );
      const out = await h.client.send(
        new h.sdk.UploadPartCommand({
          Bucket: params.Bucket,
          Key: params.Key,
          UploadId: uploadId,
          PartNumber: part.number,
          Body: part.data,
          ContentLength: part.data.byteLength,
        }),
        { abortSignal: cancel.signal },
      );
      parts.push({ PartNumber: part.number, ETag: out.ETag ?? '' });
      sent += part.data.byteLength;
      options.onProgress?.(sent);
    }
  };
  try {
    const created = await h.client.send(new h.sdk.CreateMultipartUploadCommand(params), { abortSignal: cancel.signal });
    uploadId = created.UploadId as string;
    let firstError: { error: unknown } | undefined;
    const uploaders = Array.from({ length: s.uploadConcurrency }, () =>
      uploader(source.fillsBuffer ? Buffer.allocUnsafeSlow(partSize) : Buffer.alloc(0)).catch((err: unknown) => {
        firstError ??= { error: err };
        cancel.abort(err); // stop the other uploaders at once
      }),
    );
    await Promise.all(uploaders);
    if (firstError) throw firstError.error;
    if (options.signal?.aborted) throw abortedError(options.signal, where);
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    const done = await h.client.send(
      new h.sdk.CompleteMultipartUploadCommand({
        Bucket: params.Bucket,
        Key: params.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return done.ETag;
  } catch (err) {
    cancel.abort(err);
    if (uploadId !== undefined) {
      await h.client
        .send(new h.sdk.AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId }))
        .catch(() => undefined);
    }
    if (options.signal?.aborted) throw abortedError(options.signal, where);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
