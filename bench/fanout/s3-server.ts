/**
 * The storage proxy the client talks to: the subset of the S3 REST API (path style) that Burst's s3
 * driver uses, served from a real storage driver (the fs driver by default; Ceph RGW on this machine
 * takes ~60 PUT/s, far below a 10,000-call run, see README), with every request admitted by the
 * {@link StorageModel}: counted, refused with 503 SlowDown over the prefix's rate, delayed by the
 * modelled latency and bandwidth. Signatures are not checked. Multipart uploads are not served (the
 * model's objects are small).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ListEntry, StorageDriver } from '../../src/storage/types.ts';
import { PARAMS } from './params.ts';
import type { Kind, StorageModel } from './storage-model.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const xml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function sendError(res: ServerResponse, status: number, code: string, message: string, head = false): void {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(
    head
      ? undefined
      : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`,
  );
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the proxy on a free loopback port; resolves with its URL and server. */
export async function startS3Server(
  store: StorageDriver,
  model: StorageModel,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    handle(store, model, req, res).catch((err: unknown) => {
      const code = (err as { code?: string }).code;
      if (res.headersSent) return void res.destroy();
      if (code === 'NO_SUCH_KEY') return sendError(res, 404, 'NoSuchKey', 'no such key', req.method === 'HEAD');
      if (code === 'NO_SUCH_BUCKET')
        return sendError(res, 404, 'NoSuchBucket', 'no such bucket', req.method === 'HEAD');
      sendError(res, 500, 'InternalError', String((err as Error)?.message ?? err));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
}

async function handle(
  store: StorageDriver,
  model: StorageModel,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  const admit = async (kind: Kind, k: string, bytes = 0): Promise<boolean> => {
    const ms = model.admit('client', kind, k, bytes);
    if (ms === undefined) {
      sendError(res, 503, 'SlowDown', 'Please reduce your request rate.', method === 'HEAD');
      return false;
    }
    await sleep(ms);
    return true;
  };
  if (!key) return bucketRequest(store, req, res, decodeURIComponent(bucket), q, admit);
  const b = decodeURIComponent(bucket);
  if (method === 'PUT') {
    if (q.has('uploadId') || q.has('partNumber')) return sendError(res, 501, 'NotImplemented', 'multipart');
    const data = await body(req);
    if (!(await admit('PUT', key, data.byteLength))) return;
    model.traffic('in', data.byteLength);
    const { etag } = await store.put(b, key, data);
    res.writeHead(200, { ETag: `"${etag ?? ''}"` });
    return void res.end();
  }
  if (method === 'GET' || method === 'HEAD') {
    if (!(await admit(method === 'GET' ? 'GET' : 'HEAD', key))) return;
    const info = await store.head(b, key);
    const etag = `"${info.etag ?? ''}"`;
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ifMatch !== etag)
      return sendError(res, 412, 'PreconditionFailed', 'etag changed', method === 'HEAD');
    const headers: Record<string, string | number> = {
      ETag: etag,
      'Last-Modified': (info.lastModified ?? new Date()).toUTCString(),
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
    };
    if (method === 'HEAD') {
      res.writeHead(200, { ...headers, 'Content-Length': info.size });
      return void res.end();
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(info.size - 1, range[2] ? Number(range[2]) : info.size - 1);
      if (start >= info.size) return sendError(res, 416, 'InvalidRange', 'range not satisfiable');
      const bytes = await store.get(b, key, { range: { offset: start, length: end - start + 1 } });
      await sleep((bytes.byteLength / PARAMS.s3.bytesPerSecondPerConnection) * 1000);
      model.traffic('out', bytes.byteLength);
      res.writeHead(206, {
        ...headers,
        'Content-Length': bytes.byteLength,
        'Content-Range': `bytes ${start}-${end}/${info.size}`,
      });
      return void res.end(bytes);
    }
    const bytes = await store.get(b, key);
    await sleep((bytes.byteLength / PARAMS.s3.bytesPerSecondPerConnection) * 1000);
    model.traffic('out', bytes.byteLength);
    res.writeHead(200, { ...headers, 'Content-Length': bytes.byteLength });
    return void res.end(bytes);
  }
  if (method === 'DELETE') {
    if (!(await admit('DELETE', key))) return;
    await store.delete(b, [key]);
    res.writeHead(204);
    return void res.end();
  }
  sendError(res, 501, 'NotImplemented', `${method} on an object`);
}

async function bucketRequest(
  store: StorageDriver,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  q: URLSearchParams,
  admit: (kind: Kind, key: string) => Promise<boolean>,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (method === 'PUT') {
    await store.createBucket(bucket);
    res.writeHead(200);
    return void res.end();
  }
  if (method === 'HEAD') {
    res.writeHead((await store.bucketExists(bucket)) ? 200 : 404);
    return void res.end();
  }
  if (method === 'POST' && q.has('delete')) {
    const keys = [...(await body(req)).toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
      (m[1] as string)
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&'),
    );
    if (!(await admit('DELETE', keys[0] ?? ''))) return;
    await store.delete(bucket, keys);
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    return void res.end(
      `<?xml version="1.0" encoding="UTF-8"?><DeleteResult>${keys.map((k) => `<Deleted><Key>${xml(k)}</Key></Deleted>`).join('')}</DeleteResult>`,
    );
  }
  if (method === 'GET' && q.get('list-type') === '2') {
    const prefix = q.get('prefix') ?? '';
    if (!(await admit('LIST', prefix))) return;
    const max = Math.min(1000, Number(q.get('max-keys') ?? 1000));
    const after = q.get('continuation-token') ?? q.get('start-after') ?? undefined;
    const delimiter = q.get('delimiter') ?? undefined;
    const page: ListEntry[] = [];
    let truncated = false;
    for await (const e of store.list(bucket, prefix, {
      ...(after ? { startAfter: after } : {}),
      ...(delimiter ? { delimiter } : {}),
    })) {
      if (page.length === max) {
        truncated = true;
        break;
      }
      page.push(e);
    }
    const last = page[page.length - 1];
    const token = last ? ('key' in last ? last.key : last.prefix) : '';
    const contents = page
      .map((e) =>
        'key' in e
          ? `<Contents><Key>${xml(e.key)}</Key><LastModified>${(e.lastModified ?? new Date()).toISOString()}</LastModified><ETag>"${e.etag ?? ''}"</ETag><Size>${e.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`
          : `<CommonPrefixes><Prefix>${xml(e.prefix)}</Prefix></CommonPrefixes>`,
      )
      .join('');
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    return void res.end(
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${xml(token)}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`,
    );
  }
  if (method === 'DELETE') {
    await store.deleteBucket(bucket);
    res.writeHead(204);
    return void res.end();
  }
  sendError(res, 501, 'NotImplemented', `${method} on a bucket`);
}
