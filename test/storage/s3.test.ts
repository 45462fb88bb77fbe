/**
 * The s3 driver against a real Ceph RADOS Gateway (started by test/services.ts): the shared suite,
 * then what only S3 has: credentials, unreachable endpoints, retries, multipart, presigned URLs.
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CancelledError,
  InvalidKeyError,
  NoSuchBucketError,
  NoSuchKeyError,
  StorageAuthError,
  StorageError,
  StorageUnavailableError,
} from '../../src/errors.js';
import { createStorage } from '../../src/storage/registry.js';
import { s3, type S3Options } from '../../src/storage/s3/driver.js';
import { partSizeFor } from '../../src/storage/s3/multipart.js';
import type { StorageDriver } from '../../src/storage/types.js';
import { ensureCeph } from '../services.js';
import { startFaultyProxy } from './faulty-proxy.js';
import { dropBucket, gatedStream, patternBytes, readAll, rejectsWith, uniqueBucket } from './helpers.js';
import { storageConformance } from './suite.js';

const MiB = 1024 * 1024;
const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
const server: S3Options =
  'skip' in ceph
    ? {}
    : {
        endpoint: ceph.endpoint,
        accessKeyId: ceph.accessKeyId,
        secretAccessKey: ceph.secretAccessKey,
        region: ceph.region,
      };
/** Small parts so that the suite's 6 MiB objects go through multipart upload and parallel ranged reads. */
const small: S3Options = { multipartThreshold: 5 * MiB, partSize: 5 * MiB, downloadPartSize: 1 * MiB };

storageConformance('s3 on Ceph RGW', () => s3({ ...server, ...small }), { skip });

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function multipartUploads(bucket: string): Promise<string[]> {
  const { S3Client, ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    ...server,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId as string, secretAccessKey: server.secretAccessKey as string },
  } as never);
  try {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    return (out.Uploads ?? []).map((u) => u.Key ?? '');
  } finally {
    client.destroy();
  }
}

describe('s3 driver on Ceph RGW', { skip }, () => {
  let driver: StorageDriver;
  const bucket = uniqueBucket('s3');
  before(async () => {
    driver = s3({ ...server, ...small });
    await driver.createBucket(bucket);
  });
  after(async () => {
    await dropBucket(driver, bucket);
    await driver.close?.();
  });

  it('bad credentials fail with StorageAuthError that never shows the secret', async () => {
    const secret = 'wrong-secret-DO-NOT-PRINT-1234567890';
    for (const creds of [
      { accessKeyId: server.accessKeyId as string, secretAccessKey: secret },
      { accessKeyId: 'NOSUCHKEY0000000000', secretAccessKey: secret },
    ]) {
      const bad = s3({ ...server, ...creds, maxAttempts: 2 });
      try {
        for (const op of [
          () => bad.put(bucket, 'auth/x', 'v'),
          () => bad.get(bucket, 'auth/x'),
          () => bad.head(bucket, 'auth/x'),
          () => bad.bucketExists(bucket),
        ]) {
          const err = await rejectsWith(op, StorageAuthError, [server.endpoint as string]);
          assert.ok(!err.message.includes(secret), `secret leaked in: ${err.message}`);
          assert.ok(!String(err.stack).includes(secret));
          assert.ok(!JSON.stringify({ ...err }).includes(secret));
        }
      } finally {
        await bad.close?.();
      }
    }
  });

  it('an unreachable endpoint fails with StorageUnavailableError naming it, after bounded retries', {
    timeout: 120_000,
  }, async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const down = s3({ ...server, endpoint, maxAttempts: 3, connectTimeoutMs: 1000 });
    try {
      const err = await rejectsWith(down.get('any', 'key'), StorageUnavailableError, [endpoint, 'ECONNREFUSED']);
      assert.match(err.message, /after 3 attempts/);
      await rejectsWith(down.put('any', 'key', 'v'), StorageUnavailableError, [endpoint]);
      await rejectsWith(down.bucketExists('any'), StorageUnavailableError, [endpoint]);
      // Invalid keys are refused before any request, so they are not reported as connection errors.
      await rejectsWith(down.put('any', '', 'v'), InvalidKeyError);
    } finally {
      await down.close?.();
    }
  });

  it('retries throttling and 5xx answers with backoff, then succeeds', async () => {
    let failuresLeft = 4;
    const proxy = await startFaultyProxy(server.endpoint as string, () => {
      if (failuresLeft <= 0) return undefined;
      return failuresLeft-- % 2 === 0 ? [503, 'SlowDown'] : [500, 'InternalError'];
    });
    const flaky = s3({ ...server, endpoint: proxy.endpoint, maxAttempts: 5 });
    try {
      await flaky.put(bucket, 'retry/obj', 'survived');
      assert.equal(Buffer.from(await flaky.get(bucket, 'retry/obj')).toString(), 'survived');
      assert.equal(proxy.injected, 4);
    } finally {
      await flaky.close?.();
      await proxy.close();
    }
  });

  it('gives up on a store that keeps answering 503 with StorageUnavailableError', async () => {
    const proxy = await startFaultyProxy(server.endpoint as string, () => [503, 'SlowDown']);
    const busy = s3({ ...server, endpoint: proxy.endpoint, maxAttempts: 3 });
    try {
      const err = await rejectsWith(busy.get(bucket, 'retry/obj'), StorageUnavailableError, [
        'SlowDown',
        proxy.endpoint,
      ]);
      assert.match(err.message, /after 3 attempts/);
      assert.equal(proxy.injected, 3);
    } finally {
      await busy.close?.();
      await proxy.close();
    }
  });

  it('uploads a 64 MiB file in 5 MiB parts and reads it back with parallel ranged GETs', async () => {
    const data = patternBytes(64 * MiB + 123, 7);
    const file = join(mkdtempSync(join(tmpdir(), 'burst-s3-')), 'big.bin');
    writeFileSync(file, data);
    let progress = 0;
    const { etag } = await driver.put(bucket, 'big/64m', createReadStream(file), { onProgress: (n) => (progress = n) });
    assert.ok(etag, 'an etag, even though Ceph sends none after CompleteMultipartUpload');
    assert.equal(progress, data.length);
    const head = await driver.head(bucket, 'big/64m');
    assert.equal(head.size, data.length);
    assert.equal(head.etag, etag);
    assert.match(etag, /-13$/, 'a multipart ETag (13 parts of 5 MiB)');
    assert.ok(Buffer.from(await driver.get(bucket, 'big/64m')).equals(data));
    assert.ok(
      Buffer.from(await driver.get(bucket, 'big/64m', { range: { offset: 10 * MiB - 5, length: 20 * MiB } })).equals(
        data.subarray(10 * MiB - 5, 30 * MiB - 5),
      ),
    );
    await driver.delete(bucket, ['big/64m']);
  });

  it('uploads a stream of odd-sized chunks in parts', async () => {
    const data = patternBytes(17 * MiB + 5, 8);
    const chunks: Buffer[] = [];
    for (let at = 0, i = 1; at < data.length; at += i * 77_777, i++) chunks.push(data.subarray(at, at + i * 77_777));
    await driver.put(bucket, 'big/odd', Readable.from(chunks));
    const head = await driver.head(bucket, 'big/odd');
    assert.equal(head.size, data.length);
    assert.match(head.etag ?? '', /-4$/);
    assert.ok(Buffer.from(await driver.get(bucket, 'big/odd')).equals(data));
    await driver.delete(bucket, ['big/odd']);
  });

  it('a body stream that fails during a multipart upload rejects with its error and leaves nothing', async () => {
    const gated = gatedStream(patternBytes(12 * MiB, 3), patternBytes(MiB, 4));
    const writing = driver.put(bucket, 'fail/mp', gated.stream);
    await gated.sentFirst;
    gated.fail(new Error('disk on fire'));
    await assert.rejects(writing, /disk on fire/);
    assert.equal(await driver.exists(bucket, 'fail/mp'), false);
    assert.deepEqual(await multipartUploads(bucket), []);
  });

  it('an aborted multipart upload leaves no object and no pending upload', async () => {
    const ac = new AbortController();
    const gated = gatedStream(patternBytes(12 * MiB, 1), patternBytes(MiB, 2));
    const writing = driver.put(bucket, 'abort/mp', gated.stream, { signal: ac.signal });
    await gated.sentFirst;
    ac.abort();
    gated.fail(new Error('not sent'));
    await rejectsWith(writing, CancelledError, ['abort/mp']);
    assert.equal(await driver.exists(bucket, 'abort/mp'), false);
    // The upload id is aborted before put() rejects, so nothing is left to clean up.
    assert.deepEqual(await multipartUploads(bucket), []);
  });

  it('sizes parts so that a 5 GiB (or 5 TiB) object needs at most 10,000 parts', () => {
    for (const size of [5 * 1024 * MiB, 5 * 1024 * 1024 * MiB, 100 * MiB]) {
      const part = partSizeFor(size, 5 * MiB);
      assert.ok(Math.ceil(size / part) <= 10_000, `${size} bytes in parts of ${part}`);
      assert.ok(part >= 5 * MiB);
    }
    assert.equal(partSizeFor(undefined, 16 * MiB), 16 * MiB);
  });

  it('presigns GET and PUT URLs that work with plain HTTP', async () => {
    const putUrl = await driver.presign!(bucket, 'presigned/obj', { method: 'PUT', expiresSeconds: 60 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'via presigned PUT' });
    assert.equal(put.status, 200);
    const getUrl = await driver.presign!(bucket, 'presigned/obj', { method: 'GET', expiresSeconds: 60 });
    assert.ok(!getUrl.includes(server.secretAccessKey as string));
    const got = await fetch(getUrl);
    assert.equal(await got.text(), 'via presigned PUT');
    await driver.delete(bucket, ['presigned/obj']);
  });

  it('is re-created from its config (what a worker does) and sees the same objects', async () => {
    await driver.put(bucket, 'config/obj', 'same');
    const again = await createStorage(JSON.parse(JSON.stringify(driver.config)));
    try {
      assert.equal(again.name, 's3');
      assert.equal(Buffer.from(await again.get(bucket, 'config/obj')).toString(), 'same');
    } finally {
      await again.close?.();
    }
  });

  it('pages listings with small pages and merges common prefixes in order', async () => {
    const paged = s3({ ...server, listPageSize: 2 });
    try {
      const keys = ['pg/a/1', 'pg/a/2', 'pg/b', 'pg/c/1', 'pg/d', 'pg/e', 'pg/f/9'];
      await Promise.all(keys.map((k) => driver.put(bucket, k, k)));
      const names: string[] = [];
      for await (const e of paged.list(bucket, 'pg/', { delimiter: '/' }))
        names.push('prefix' in e ? `P:${e.prefix}` : e.key);
      assert.deepEqual(names, ['P:pg/a/', 'pg/b', 'P:pg/c/', 'pg/d', 'pg/e', 'P:pg/f/']);
      const all: string[] = [];
      for await (const e of paged.list(bucket, 'pg/')) if (!('prefix' in e)) all.push(e.key);
      assert.deepEqual(all, keys);
      await driver.delete(bucket, keys);
    } finally {
      await paged.close?.();
    }
  });

  it('signs upload payloads over http by default, and sends UNSIGNED-PAYLOAD when asked', async () => {
    const proxy = await startFaultyProxy(server.endpoint as string, () => undefined);
    try {
      for (const signPayload of [undefined, false]) {
        const d = s3({
          ...server,
          ...small,
          endpoint: proxy.endpoint,
          ...(signPayload === undefined ? {} : { signPayload }),
        });
        try {
          const from = proxy.seen.length;
          await d.put(bucket, 'sign/small', 'tiny');
          await d.put(bucket, 'sign/big', patternBytes(6 * MiB, 5));
          const uploads = proxy.seen
            .map((r, i) => [r, proxy.headers[i]?.['x-amz-content-sha256']] as const)
            .slice(from)
            .filter(([r]) => r.startsWith('PUT '));
          assert.equal(uploads.length, 3, 'one PutObject and two UploadPart requests');
          for (const [request, hash] of uploads) {
            if (signPayload === false) assert.equal(hash, 'UNSIGNED-PAYLOAD', request);
            else assert.match(String(hash), /^[0-9a-f]{64}$/, request);
          }
          assert.equal((await d.head(bucket, 'sign/big')).size, 6 * MiB);
        } finally {
          await d.close?.();
        }
      }
    } finally {
      await proxy.close();
    }
  });

  it('reads large objects over direct sockets, and falls back to the SDK when that fails', async () => {
    const data = patternBytes(8 * MiB + 3, 12);
    await driver.put(bucket, 'direct/obj', data);
    const presigned = (url: string | undefined) => String(url).includes('X-Amz-Signature=');
    for (const failDirect of [false, true]) {
      const proxy = await startFaultyProxy(server.endpoint as string, (req) =>
        failDirect && presigned(req.url) ? [503, 'SlowDown'] : undefined,
      );
      const d = s3({ ...server, ...small, endpoint: proxy.endpoint });
      try {
        assert.ok(Buffer.from(await d.get(bucket, 'direct/obj')).equals(data));
        const direct = proxy.seen.filter((r) => presigned(r)).length;
        assert.equal(
          direct,
          8,
          'the 7 MiB after the first part, and the 3 bytes after that, one request per 1 MiB part',
        );
        assert.equal(proxy.injected, failDirect ? 8 : 0);
        // Streams fetch their parts the same way, ahead of the reader and in order.
        assert.ok((await readAll(await d.getStream(bucket, 'direct/obj'))).equals(data));
        const range = { offset: MiB - 7, length: 5 * MiB + 11 };
        assert.ok(
          (await readAll(await d.getStream(bucket, 'direct/obj', { range }))).equals(
            data.subarray(range.offset, range.offset + range.length),
          ),
        );
      } finally {
        await d.close?.();
        await proxy.close();
      }
    }
    const off = await startFaultyProxy(server.endpoint as string, () => undefined);
    const sdkOnly = s3({ ...server, ...small, endpoint: off.endpoint, directReads: false });
    try {
      assert.ok(Buffer.from(await sdkOnly.get(bucket, 'direct/obj')).equals(data));
      assert.equal(off.seen.filter((r) => presigned(r)).length, 0);
    } finally {
      await sdkOnly.close?.();
      await off.close();
    }
  });

  it('never mixes two versions when an object is overwritten during a parallel read', async () => {
    const v1 = patternBytes(6 * MiB, 13);
    const v2 = patternBytes(6 * MiB, 14);
    await driver.put(bucket, 'changing/obj', v1);
    let overwritten = false;
    let replacement = v2;
    const proxy = await startFaultyProxy(
      server.endpoint as string,
      () => undefined,
      async (req) => {
        // Between the first part and the others, a writer replaces the object.
        if (!overwritten && String(req.url).includes('X-Amz-Signature=')) {
          overwritten = true;
          await driver.put(bucket, 'changing/obj', replacement);
        }
      },
    );
    const d = s3({ ...server, ...small, endpoint: proxy.endpoint });
    try {
      const got = Buffer.from(await d.get(bucket, 'changing/obj'));
      assert.ok(overwritten);
      assert.ok(got.equals(v2), 'the whole new version, read again after If-Match failed');
      // A stream has already handed out the first part, so it fails instead of starting over.
      overwritten = false;
      replacement = v1;
      const err = await rejectsWith(async () => readAll(await d.getStream(bucket, 'changing/obj')), StorageError, [
        'changing/obj',
        'changed',
      ]);
      assert.equal((err as StorageError).code, 'CHANGED_DURING_READ');
      assert.ok(overwritten);
    } finally {
      await d.close?.();
      await proxy.close();
    }
  });

  it('stops fetching when a stream reader stops early', async () => {
    const data = patternBytes(12 * MiB, 15);
    await driver.put(bucket, 'early/obj', data);
    const proxy = await startFaultyProxy(server.endpoint as string, () => undefined);
    const d = s3({ ...server, ...small, endpoint: proxy.endpoint, downloadConcurrency: 2 });
    try {
      const stream = await d.getStream(bucket, 'early/obj');
      let got = 0;
      for await (const chunk of stream) {
        got += (chunk as Buffer).byteLength;
        if (got >= 2 * MiB) break;
      }
      assert.ok(stream.destroyed);
      assert.ok(proxy.seen.length <= 6, `read ahead at most a few parts: ${proxy.seen.length} requests`);
    } finally {
      await d.close?.();
      await proxy.close();
    }
  });

  it('tells a missing key from a missing bucket, without an extra request for a bucket just used', async () => {
    const proxy = await startFaultyProxy(server.endpoint as string, () => undefined);
    const watched = s3({ ...server, endpoint: proxy.endpoint });
    try {
      await watched.put(bucket, 'seen/obj', 'v');
      const before = proxy.seen.length;
      await rejectsWith(watched.head(bucket, 'never/there'), NoSuchKeyError, ['never/there', bucket]);
      assert.equal(proxy.seen.length - before, 1, `requests: ${proxy.seen.slice(before).join(', ')}`);
      const other = uniqueBucket('gone');
      await rejectsWith(watched.head(other, 'k'), NoSuchBucketError, [other]);
      await rejectsWith(watched.exists(other, 'k'), NoSuchBucketError, [other]);
    } finally {
      await watched.close?.();
      await proxy.close();
    }
  });
});

describe('s3 driver against a server that never answers', () => {
  it('fails with StorageUnavailableError after bounded retries instead of hanging', { timeout: 60_000 }, async () => {
    // A real TCP server that accepts connections and reads requests but never responds.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const stuck = s3({ endpoint, accessKeyId: 'k', secretAccessKey: 's', maxAttempts: 2, requestTimeoutMs: 300 });
    try {
      const err = await rejectsWith(stuck.put('b', 'k', 'v'), StorageUnavailableError, [endpoint, 'TimeoutError']);
      assert.match(err.message, /after 2 attempts/);
      await rejectsWith(stuck.get('b', 'k'), StorageUnavailableError, [endpoint]);
    } finally {
      await stuck.close?.();
      silent.close();
    }
  });
});

describe('s3 driver: a 5 GiB object', {
  skip: skip ?? (process.env.BURST_TEST_5GIB === '1' ? false : 'set BURST_TEST_5GIB=1 (holds 5 GiB in the gateway)'),
}, () => {
  it('uploads a 5 GiB stream of unknown length and reads its edges back', { timeout: 30 * 60_000 }, async () => {
    const GiB = 1024 * MiB;
    const size = 5 * GiB + 12345;
    // 17 distinct 1 MiB blocks in turn: cheap to generate, and any misplaced part shows.
    const blocks = Array.from({ length: 17 }, (_, i) => patternBytes(MiB, 100 + i));
    const expected = (offset: number, length: number) => {
      const out = Buffer.allocUnsafe(length);
      for (let i = 0; i < length; i++) {
        const o = offset + i;
        out[i] = (blocks[Math.floor(o / MiB) % 17] as Buffer)[o % MiB] as number;
      }
      return out;
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let at = 0, i = 0; at < size; at += MiB, i++)
        yield (blocks[i % 17] as Buffer).subarray(0, Math.min(MiB, size - at));
    }
    const d = s3(server);
    const big = uniqueBucket('5gib');
    await d.createBucket(big);
    try {
      await d.put(big, 'five', body());
      const head = await d.head(big, 'five');
      assert.equal(head.size, size);
      assert.match(head.etag ?? '', /-\d+$/);
      assert.ok(Number((head.etag ?? '').split('-')[1]) <= 10_000);
      for (const [offset, length] of [
        [0, 1000],
        [16 * MiB - 10, 20],
        [2.5 * GiB, 4096],
        [size - 777, 777],
      ] as const) {
        assert.ok(
          Buffer.from(await d.get(big, 'five', { range: { offset, length } })).equals(expected(offset, length)),
          `bytes at ${offset}`,
        );
      }
    } finally {
      await d.delete(big, ['five']);
      await d.deleteBucket(big);
      await d.close?.();
    }
  });
});
