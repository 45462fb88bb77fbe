/**
 * `burst worker serve`, the HTTP worker of the container platforms, on this host: its HTTP contract
 * (health, routes, body limit, token, request checks, refusing to start open) in-process, and a graceful SIGTERM of the real CLI process
 * (in-flight calls finish, new requests are refused, exit 0). Cancelling calls (a client that hangs
 * up, a second SIGTERM) is in serve-cancel.test.ts; the multi-host runs are in
 * test/backends/knative.test.ts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FunctionExecutor } from '../../src/index.ts';
import { serve, type ServeHandle } from '../../src/worker/entries/http.ts';
import { startServe } from '../serve-hosts.ts';
import { sleepMs } from '../fixtures/tasks.ts';
import { SIGNING_KEY, fsConfig } from './serve-fixtures.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-serve-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const post = (url: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

describe('burst worker serve: HTTP contract', () => {
  let handle: ServeHandle;
  let base: string;
  before(async () => {
    await mkdir(join(root, 'burst'), { recursive: true });
    handle = await serve({
      port: 0,
      host: '127.0.0.1',
      concurrency: 2,
      maxBodyBytes: 1024,
      token: 'sesame',
      signingKey: SIGNING_KEY,
      storage: { driver: 'fs', options: { root } },
    });
    base = `http://127.0.0.1:${handle.port}`;
  });
  after(async () => {
    await handle.close();
  });
  const auth = { Authorization: 'Bearer sesame' };

  test('GET /healthz reports the slots', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      ok: true,
      inFlight: 0,
      concurrency: 2,
      served: 0,
      rejectedBusy: 0,
      rejectedAuth: 0,
    });
  });

  test('unknown paths are 404 and other methods 405', async () => {
    assert.equal((await post(`${base}/run`, '{}', auth)).status, 404);
    const get = await fetch(`${base}/invoke`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  test('the token is required, in Authorization or X-Burst-Token', async () => {
    assert.equal((await post(`${base}/invoke`, '{}')).status, 401);
    assert.equal((await post(`${base}/invoke`, '{}', { Authorization: 'Bearer open' })).status, 401);
    assert.equal((await post(`${base}/invoke`, '{}', auth)).status, 400, 'past the token check, the body is checked');
    assert.equal((await post(`${base}/invoke`, '{}', { 'X-Burst-Token': 'sesame' })).status, 400);
  });

  test('a bad body is a 400 naming the field', async () => {
    const bad = async (body: string, message: RegExp): Promise<void> => {
      const res = await post(`${base}/invoke`, body, auth);
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, message);
    };
    await bad('not json', /not valid JSON/);
    await bad('[]', /must be a JSON object/);
    await bad(
      '{"bucket":"burst","jobKey":"burst/jobs/e/M000","calls":"0","attempt":0}',
      /"attempt" must be a positive integer up to 1000, got 0/,
    );
    await bad('{"bucket":"burst","jobKey":"burst/jobs/e/M000","calls":"x","attempt":1}', /invalid call list/);
    await bad('{"bucket":"burst","jobKey":"burst/jobs/e/M000","calls":"3-1","attempt":1}', /goes backwards/);
    await bad(
      '{"bucket":"burst","jobKey":"k","calls":"0","attempt":1}',
      /"jobKey" must look like "burst\/jobs\/<executorId>\/<jobId>"/,
    );
    await bad('{"bucket":"B","jobKey":"burst/jobs/e/M000","calls":"0","attempt":1}', /"bucket" must be a bucket name/);
  });

  test('a body over the limit is 413', async () => {
    const res = await post(`${base}/invoke`, JSON.stringify({ pad: 'x'.repeat(2000) }), auth);
    assert.equal(res.status, 413);
  });

  test("a job that is not in the worker's storage is a 404 naming it, with no status written", async () => {
    for (const bucket of ['burst', 'no-such-bucket']) {
      const res = await post(
        `${base}/invoke`,
        JSON.stringify({ bucket, jobKey: 'burst/jobs/none/M000', calls: '0-1', attempt: 1 }),
        auth,
      );
      assert.equal(res.status, 404);
      assert.match(
        ((await res.json()) as { error: string }).error,
        new RegExp(`no job burst/jobs/none/M000 in bucket "${bucket}"`),
      );
    }
    assert.equal(existsSync(join(root, 'burst', 'burst/jobs/none')), false);
  });

  test('only the configured buckets are served when buckets is set', async () => {
    const narrow = await serve({
      port: 0,
      host: '127.0.0.1',
      token: 'sesame',
      signingKey: SIGNING_KEY,
      storage: { driver: 'fs', options: { root } },
      buckets: ['burst'],
    });
    try {
      const res = await post(
        `http://127.0.0.1:${narrow.port}/invoke`,
        JSON.stringify({ bucket: 'other', jobKey: 'burst/jobs/none/M000', calls: '0', attempt: 1 }),
        auth,
      );
      assert.equal(res.status, 400);
      assert.match(
        ((await res.json()) as { error: string }).error,
        /"bucket" "other" is not served by this worker \(it serves burst\)/,
      );
    } finally {
      await narrow.close();
    }
  });
});

describe('serve() refuses to start open (ConfigError naming what to set)', () => {
  const storage = { driver: 'fs', options: { root: tmpdir() } };
  const refused = async (o: Parameters<typeof serve>[0], message: RegExp): Promise<void> => {
    await assert.rejects(
      serve({ port: 0, ...o }),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
    );
  };
  test('no token, an empty token, no signing key, no storage, --insecure on a network', async () => {
    const saved = {
      token: process.env.BURST_SERVE_TOKEN,
      key: process.env.BURST_SIGNING_KEY,
      storage: process.env.BURST_STORAGE_CONFIG,
    };
    delete process.env.BURST_SERVE_TOKEN;
    delete process.env.BURST_SIGNING_KEY;
    delete process.env.BURST_STORAGE_CONFIG;
    try {
      await refused({ storage }, /set BURST_SERVE_TOKEN/);
      await refused({ storage, token: '' }, /BURST_SERVE_TOKEN is set but empty/);
      await refused({ storage, token: 't' }, /set BURST_SIGNING_KEY/);
      await refused(
        { storage, token: 't', signingKey: 'short' },
        /signingKey must be a secret of at least 16 characters .*got 5 characters/,
      );
      await refused(
        { token: 't', signingKey: SIGNING_KEY },
        /needs its storage: pass --storage-config or set BURST_STORAGE_CONFIG/,
      );
      await refused({ storage, insecure: true, host: '0.0.0.0' }, /--insecure listens on loopback only/);
      const open = await serve({ port: 0, storage, insecure: true });
      assert.equal(open.host, '127.0.0.1');
      await open.close();
    } finally {
      for (const [k, v] of [
        ['BURST_SERVE_TOKEN', saved.token],
        ['BURST_SIGNING_KEY', saved.key],
        ['BURST_STORAGE_CONFIG', saved.storage],
      ] as const)
        if (v !== undefined) process.env[k] = v;
    }
  });
});

test('burst worker serve on SIGTERM finishes in-flight calls, refuses new requests and exits 0', async () => {
  const server = await startServe({
    addr: '127.0.0.1',
    port: 0,
    args: ['--insecure', '--storage-config', fsConfig(root)],
  });
  const fexec = new FunctionExecutor({
    backend: 'knative',
    knative: { url: server.url, signJobs: false },
    fs: { root, shared: true },
    progress: false,
  });
  try {
    const futures = await fexec.map(sleepMs, [1500]);
    while ((await server.health()).inFlight === 0) await new Promise((r) => setTimeout(r, 50));
    server.child.kill('SIGTERM');
    // Once it has stopped listening, a new connection is refused (a platform routes elsewhere).
    let refused = false;
    while (!refused) {
      refused = await fetch(`${server.url}/healthz`).then(
        (r) => r.status === 503,
        () => true,
      );
    }
    assert.deepEqual(await fexec.getResult(futures), [1500]);
    // Waits for the exit the first SIGTERM causes: a second one sent while it exits could kill it instead.
    assert.equal(await server.exited(), 0);
    assert.match(server.output(), /SIGTERM: finishing 1 request/);
  } finally {
    await fexec.close();
    await server.stop('SIGKILL');
  }
});

test('the knative backend refuses the removed sendStorageConfig option, naming it', async () => {
  const fexec = new FunctionExecutor({
    backend: 'knative',
    knative: { url: 'http://127.0.0.1:9', signJobs: false, sendStorageConfig: true } as never,
    fs: { root, shared: true },
    progress: false,
  });
  try {
    await assert.rejects(
      fexec.map(sleepMs, [1]),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.keyPath === 'knative.sendStorageConfig' &&
        /its own BURST_STORAGE_CONFIG/.test(err.message),
    );
  } finally {
    await fexec.close();
  }
});
