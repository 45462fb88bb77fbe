/**
 * `burst worker serve`, the HTTP worker of the container platforms, on this host: its HTTP contract
 * (health, routes, body limit, token) in-process, and a graceful SIGTERM of the real CLI process
 * (in-flight calls finish, new requests are refused, exit 0). Cancelling calls (a client that hangs
 * up, a second SIGTERM) is in serve-cancel.test.ts; the multi-host runs are in
 * test/backends/knative.test.ts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor } from '../../src/index.ts';
import { serve, type ServeHandle } from '../../src/worker/entries/http.ts';
import { startServe } from '../serve-hosts.ts';
import { sleepMs } from '../fixtures/tasks.ts';

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
    handle = await serve({ port: 0, host: '127.0.0.1', concurrency: 2, maxBodyBytes: 1024, token: 'sesame' });
    base = `http://127.0.0.1:${handle.port}`;
  });
  after(async () => {
    await handle.close();
  });
  const auth = { Authorization: 'Bearer sesame' };

  test('GET /healthz reports the slots', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, inFlight: 0, concurrency: 2, served: 0, rejectedBusy: 0, rejectedAuth: 0 });
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
    await bad('{"bucket":"b","jobKey":"k","calls":"0","attempt":0}', /"attempt" must be a positive integer, got 0/);
    await bad('{"bucket":"b","jobKey":"k","calls":"x","attempt":1}', /invalid call list/);
    await bad('{"bucket":"b","jobKey":"k","calls":"0","attempt":1}', /no "storage" and this worker has no BURST_STORAGE_CONFIG/);
  });

  test('a body over the limit is 413', async () => {
    const res = await post(`${base}/invoke`, JSON.stringify({ pad: 'x'.repeat(2000) }), auth);
    assert.equal(res.status, 413);
  });

  test('calls of a job that is not in storage fail as statuses: 200 with the counts', async () => {
    await mkdir(join(root, 'burst'), { recursive: true });
    const body = JSON.stringify({ bucket: 'burst', jobKey: 'burst/jobs/none/M000', calls: '0-1', attempt: 1, storage: { driver: 'fs', options: { root } } });
    const res = await post(`${base}/invoke`, body, auth);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { succeeded: 0, failed: 2 });
    // Storage that cannot take the statuses at all: still 200 (the calls were accepted), with the error.
    const nowhere = JSON.stringify({ bucket: 'no-such-bucket', jobKey: 'burst/jobs/none/M000', calls: '0', attempt: 1, storage: { driver: 'fs', options: { root } } });
    assert.match(((await (await post(`${base}/invoke`, nowhere, auth)).json()) as { error: string }).error, /no-such-bucket/);
  });
});

test('burst worker serve on SIGTERM finishes in-flight calls, refuses new requests and exits 0', async () => {
  const server = await startServe({ addr: '127.0.0.1', port: 0, args: ['--host', '127.0.0.1'] });
  const fexec = new FunctionExecutor({ backend: 'knative', knative: { url: server.url }, fs: { root, shared: true }, progress: false });
  try {
    const futures = await fexec.map(sleepMs, [1500]);
    while ((await server.health()).inFlight === 0) await new Promise((r) => setTimeout(r, 50));
    server.child.kill('SIGTERM');
    // Once it has stopped listening, a new connection is refused (a platform routes elsewhere).
    let refused = false;
    while (!refused) {
      refused = await fetch(`${server.url}/healthz`).then((r) => r.status === 503, () => true);
    }
    assert.deepEqual(await fexec.getResult(futures), [1500]);
    assert.equal(await server.stop(), 0);
    assert.match(server.output(), /SIGTERM: finishing 1 request/);
  } finally {
    await fexec.close();
    await server.stop('SIGKILL');
  }
});
