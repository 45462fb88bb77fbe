/**
 * HTTP(S) inputs against a real local `node:http` server: split into ranges when it serves them,
 * one chunk per URL when it does not, HEAD refused, missing size, errors, and content that changes
 * between planning and reading.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { FunctionExecutor, type DataPartition } from '../../src/index.js';
import { validatePartitionOptions } from '../../src/partition/chunking.js';
import { PartitionError } from '../../src/partition/errors.js';
import { planPartitions } from '../../src/partition/planner.js';
import { memory } from '../../src/storage/memory/driver.js';
import { rejectsWith } from '../storage/helpers.js';
import { chunkOptions, readPartitions, referenceAligned, referenceLines, runs, textObject } from './helpers.js';

interface Doc {
  body: Buffer;
  etag: string;
}

const docs = new Map<string, Doc>();
const requests: Array<{ method: string; url: string; range?: string }> = [];

function setDoc(name: string, body: Buffer | string, etag = `"v1-${name}"`): void {
  docs.set(name, { body: Buffer.from(body), etag });
}

/** Routes: /ranged/* serves ranges; /plain/* ignores them; /nohead/* refuses HEAD; /liar/* says it serves ranges but does not; /stream/* sends no length. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const [, mode, name] = url.pathname.split('/');
  requests.push({
    method: req.method ?? '',
    url: url.pathname,
    ...(req.headers.range ? { range: req.headers.range } : {}),
  });
  const doc = docs.get(name ?? '');
  if (!doc) {
    res.writeHead(404, 'Not Found').end('no such doc');
    return;
  }
  if (mode === 'nohead' && req.method === 'HEAD') {
    res.writeHead(405, 'Method Not Allowed').end();
    return;
  }
  const ranges = mode === 'ranged' || mode === 'nohead';
  const headers: Record<string, string | number> = { etag: doc.etag, 'content-type': 'text/plain' };
  if (ranges || mode === 'liar') headers['accept-ranges'] = 'bytes';
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (m && ranges) {
    const from = Number(m[1]);
    const to = Math.min(Number(m[2]), doc.body.length - 1);
    if (from >= doc.body.length) {
      res.writeHead(416, { 'content-range': `bytes */${doc.body.length}` }).end();
      return;
    }
    const part = doc.body.subarray(from, to + 1);
    res.writeHead(206, {
      ...headers,
      'content-length': part.length,
      'content-range': `bytes ${from}-${to}/${doc.body.length}`,
    });
    res.end(req.method === 'HEAD' ? undefined : part);
    return;
  }
  if (mode === 'stream') {
    res.writeHead(200, headers); // chunked transfer encoding: no Content-Length
    if (req.method === 'HEAD') res.end();
    else {
      res.write(doc.body.subarray(0, 3));
      res.end(doc.body.subarray(3));
    }
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': doc.body.length });
  res.end(req.method === 'HEAD' ? undefined : doc.body);
}

let server: Server;
let base: string;
const ctx = { storage: memory() };

before(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  setDoc('text', 'one two\nthree\r\nfour five six\nseven');
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe('HTTP inputs', () => {
  it('splits a URL served with ranges, from a HEAD only, and reads each chunk with a Range GET', async () => {
    requests.length = 0;
    const specs = await planPartitions(`${base}/ranged/text`, { objChunkSize: 6 }, ctx);
    assert.deepEqual(
      requests.map((r) => r.method),
      ['HEAD'],
      'planning sends one HEAD',
    );
    assert.equal(specs.length, 6);
    assert.ok(
      specs.every(
        (s) => s.bucket === '' && s.key === '' && s.storage === undefined && s.etag === '"v1-text"' && s.size === 34,
      ),
    );
    const read = await readPartitions(specs);
    assert.deepEqual(
      read.flatMap((r) => r.lines),
      ['one two', 'three', 'four five six', 'seven'],
    );
    assert.ok(
      requests.slice(1).every((r) => r.method === 'GET' && r.range !== undefined),
      'chunks are read by Range GETs',
    );
  });

  it('random objects and chunkings over HTTP ranges: lines exactly once, only the aligned bytes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ data: textObject('\n'), chunking: chunkOptions(16) }),
        async ({ data, chunking }) => {
          const name = `p${n++}`;
          setDoc(name, data);
          const specs = await planPartitions(`${base}/ranged/${name}`, chunking(data.length), ctx);
          const read = await readPartitions(specs);
          assert.deepEqual(
            read.flatMap((r) => r.lines),
            referenceLines(data, '\n'),
          );
          for (const [i, s] of specs.entries()) {
            const [a, b] = referenceAligned(data, '\n', s.start, s.end);
            assert.deepEqual(read[i]?.bytes, data.subarray(a, b));
          }
          docs.delete(name);
        },
      ),
      { numRuns: runs(40) },
    );
  });

  it('one chunk per URL when the server does not serve ranges or tell the size', async () => {
    for (const mode of ['plain', 'stream']) {
      requests.length = 0;
      const specs = await planPartitions(`${base}/${mode}/text`, { objChunkSize: 6 }, ctx);
      assert.equal(specs.length, 1, mode);
      assert.equal(specs[0]?.size, mode === 'plain' ? 34 : -1);
      assert.deepEqual((await readPartitions(specs))[0]?.lines, ['one two', 'three', 'four five six', 'seven']);
      assert.ok(
        requests.every((r) => r.range === undefined),
        `${mode}: no Range header sent`,
      );
    }
  });

  it('falls back to a GET whose body is not read when HEAD is refused', async () => {
    const specs = await planPartitions(`${base}/nohead/text`, { objChunkNumber: 2 }, ctx);
    assert.equal(specs.length, 2);
    assert.deepEqual(
      (await readPartitions(specs)).flatMap((r) => r.lines),
      ['one two', 'three', 'four five six', 'seven'],
    );
  });

  it('a missing URL or an unreachable server fails planning with a typed error; query strings stay out of messages', async () => {
    const e = await rejectsWith(
      planPartitions(`${base}/ranged/missing?X-Amz-Signature=secret`, {}, ctx),
      PartitionError,
      ['404 Not Found', '/ranged/missing?…'],
    );
    assert.equal((e as PartitionError).code, 'HTTP');
    assert.ok(!e.message.includes('secret'));
    await rejectsWith(planPartitions('http://127.0.0.1:9/x', {}, ctx), PartitionError, [
      'HEAD "http://127.0.0.1:9/x" failed',
    ]);
  });

  it('content changed after planning fails the read with OBJECT_CHANGED naming the URL', async () => {
    setDoc('mut', 'aaa\nbbb\nccc\n');
    const specs = await planPartitions(`${base}/ranged/mut`, { objChunkSize: 4 }, ctx);
    setDoc('mut', 'aaa\nbbb\nccc\n', '"v2"');
    const e = await rejectsWith(readPartitions(specs), PartitionError, [
      '/ranged/mut',
      'changed since it was planned',
      'ETag "v2"',
    ]);
    assert.equal((e as PartitionError).code, 'OBJECT_CHANGED');
    setDoc('mut', 'aaa\nbbb\n', '"v1-mut"');
    await rejectsWith(readPartitions(specs.slice(0, 1)), PartitionError, ['8 bytes, expected 12']);
    setDoc('mut2', 'x\ny\n');
    const whole = await planPartitions(`${base}/plain/mut2`, {}, ctx);
    setDoc('mut2', 'x\ny\nz\n', '"v1-mut2"');
    await rejectsWith(readPartitions(whole), PartitionError, ['6 bytes, expected 4']);
  });

  it('a server that announced ranges but ignores them is an error, not silently wrong data', async () => {
    const specs = await planPartitions(`${base}/liar/text`, { objChunkSize: 10 }, ctx);
    assert.equal(specs.length, 4);
    await rejectsWith(readPartitions(specs.slice(1)), PartitionError, ['ignored the Range header']);
  });
});

/** Servers that misbehave on purpose (issue 14 finding 10), each on 127.0.0.1 with its own port. */
describe('HTTP inputs from servers that are not trusted (issue 14 finding 10)', () => {
  const servers: Server[] = [];
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> => {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as { port: number }).port;
  };
  after(async () => {
    for (const res of hanging) res.destroy();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.closeAllConnections();
            s.close(() => r());
          }),
      ),
    );
  });

  it('has time limits by default: 10 s to connect, 30 s for headers, 60 s of body silence', () => {
    const plan = validatePartitionOptions({});
    assert.deepEqual(plan.http, {
      connectTimeout: 10_000,
      headTimeout: 30_000,
      readTimeout: 60_000,
      redirectHosts: [],
    });
    assert.equal(plan.maxCalls, 100_000);
    assert.throws(
      () => validatePartitionOptions({ httpHeadTimeout: 0 }),
      (e: unknown) => e instanceof ConfigError && /httpHeadTimeout must be a positive integer, got 0/.test(e.message),
    );
    assert.throws(() => validatePartitionOptions({ httpRedirectHosts: 'x' as never }), ConfigError);
    assert.throws(
      () => validatePartitionOptions({ maxCalls: 2_000_000 }),
      (e: unknown) => e instanceof ConfigError && /maxCalls must be at most 1000000/.test(e.message),
    );
  });

  it('a server that never answers HEAD fails planning with HTTP_TIMEOUT instead of hanging map()', async () => {
    const port = await listen((_req, res) => void hanging.add(res)); // accepts, never answers
    const e = await rejectsWith(
      planPartitions(`http://127.0.0.1:${port}/x`, { httpHeadTimeout: 300 }, ctx),
      PartitionError,
      ['HEAD "http://127.0.0.1:', 'sent no response headers within 300 ms', 'httpHeadTimeout'],
    );
    assert.equal((e as PartitionError).code, 'HTTP_TIMEOUT');
    // Through map(): the option travels and the map fails, typed, before anything runs.
    const root = await mkdtemp(join(tmpdir(), 'burst-http-hang-'));
    const fexec = new FunctionExecutor({ workers: 1, fs: { root }, progress: false });
    try {
      await rejectsWith(
        fexec.map((p: DataPartition) => p.size, `http://127.0.0.1:${port}/x`, { httpHeadTimeout: 300 }),
        PartitionError,
        ['within 300 ms'],
      );
    } finally {
      await fexec.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a connection that never completes (TCP accepted, TLS handshake never answered) fails with HTTP_TIMEOUT (httpConnectTimeout)', async () => {
    const silent = createNetServer((socket) => void sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const e = await rejectsWith(
        planPartitions(`https://127.0.0.1:${port}/x`, { httpConnectTimeout: 300 }, ctx),
        PartitionError,
        ['could not connect within 300 ms', 'httpConnectTimeout'],
      );
      assert.equal((e as PartitionError).code, 'HTTP_TIMEOUT');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('a body that stalls while a worker reads fails with HTTP_TIMEOUT (httpReadTimeout)', async () => {
    const body = Buffer.from('line one\nline two\n');
    const port = await listen((req, res) => {
      res.writeHead(200, { 'content-length': body.length * 2, etag: '"s"' }); // promises more than it sends
      if (req.method === 'HEAD') return void res.end();
      res.write(body);
      hanging.add(res);
    });
    const specs = await planPartitions(`http://127.0.0.1:${port}/slow`, { httpReadTimeout: 300 }, ctx);
    assert.equal(specs[0]?.http?.readTimeout, 300, 'the limit travels to the worker in the spec');
    const e = await rejectsWith(readPartitions(specs), PartitionError, ['stopped sending its body', 'httpReadTimeout']);
    assert.equal((e as PartitionError).code, 'HTTP_TIMEOUT');
  });

  it('a redirect to another host (another loopback name or port) is refused naming both hosts, unless allowed', async () => {
    const data = Buffer.from('a\nb\nc\n');
    const target = await listen((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m)
        return void res
          .writeHead(200, { 'content-length': data.length, 'accept-ranges': 'bytes', etag: '"t"' })
          .end(req.method === 'HEAD' ? undefined : data);
      const from = Number(m[1]);
      const to = Math.min(Number(m[2]), data.length - 1);
      res
        .writeHead(206, {
          'content-length': to - from + 1,
          'content-range': `bytes ${from}-${to}/${data.length}`,
          etag: '"t"',
        })
        .end(data.subarray(from, to + 1));
    });
    let port = 0;
    port = await listen((req, res) => {
      const to: Record<string, string> = {
        '/same': `http://127.0.0.1:${port}/final`,
        '/port': `http://127.0.0.1:${target}/data`,
        '/name': `http://localhost:${target}/data`,
        '/final': '',
      };
      const location = to[req.url ?? ''];
      if (location) return void res.writeHead(302, { location }).end();
      res.writeHead(200, { 'content-length': 4 }).end(req.method === 'HEAD' ? undefined : 'x\ny\n');
    });
    const same = await planPartitions(`http://127.0.0.1:${port}/same`, {}, ctx);
    assert.deepEqual((await readPartitions(same))[0]?.lines, ['x', 'y'], 'a same-host redirect is followed');
    for (const [path, to] of [
      ['/port', `127.0.0.1:${target}`],
      ['/name', `localhost:${target}`],
    ] as const) {
      const e = await rejectsWith(planPartitions(`http://127.0.0.1:${port}${path}`, {}, ctx), PartitionError, [
        `from host 127.0.0.1:${port} to another host, ${to}`,
        'httpRedirectHosts',
      ]);
      assert.equal((e as PartitionError).code, 'HTTP_REDIRECT');
    }
    const allowed = await planPartitions(
      `http://127.0.0.1:${port}/name`,
      { httpRedirectHosts: [`localhost:${target}`], objChunkSize: 2 },
      ctx,
    );
    assert.equal(allowed.length, 3);
    assert.deepEqual(
      (await readPartitions(allowed)).flatMap((r) => r.lines),
      ['a', 'b', 'c'],
    );
  });

  it('a 1 TB Content-Length is refused by maxCalls with a ConfigError saying how to raise it', async () => {
    const port = await listen((req, res) => {
      res.writeHead(200, { 'content-length': String(2 ** 40), 'accept-ranges': 'bytes' });
      if (req.method === 'HEAD') res.end();
      else res.destroy();
    });
    const e = await rejectsWith(
      planPartitions(`http://127.0.0.1:${port}/huge`, { objChunkSize: 2 ** 20 }, ctx),
      ConfigError,
      ['would make 1048576 calls, more than maxCalls (100000)', 'maxCalls:'],
    );
    assert.equal((e as ConfigError).keyPath, 'maxCalls');
    const absurd = await listen((_req, res) => void res.writeHead(200, { 'content-length': String(2n ** 60n) }).end());
    await rejectsWith(planPartitions(`http://127.0.0.1:${absurd}/x`, {}, ctx), PartitionError, ['too large to plan']);
    // One chunk per URL stays one call, whatever the size.
    assert.equal((await planPartitions(`http://127.0.0.1:${port}/huge`, {}, ctx)).length, 1);
  });
});
