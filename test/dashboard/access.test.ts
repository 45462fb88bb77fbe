/**
 * Issue 14 finding 5: the dashboard shows jobs, logs and errors, so it answers only requests that name
 * a loopback host (no DNS rebinding) and carry this run's token (no other local user, no other page).
 * Each attack is made against the real `burst dashboard` command on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import {
  sandbox,
  sandboxStorage,
  startBurst,
  statusRecord,
  writeManifest,
  writeStatuses,
  type Sandbox,
} from '../cli/helpers.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET to 127.0.0.1:port with exactly these headers (fetch cannot set Host). */
function get(port: number, path: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function start(box: Sandbox, args: string[] = []): Promise<{ url: URL; child: ChildProcess; output: string }> {
  const child = startBurst(['dashboard', '--port', '0', ...args], box);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+\/\?token=\S+)/.exec(out);
      if (m && out.includes('access token')) resolve({ url: new URL(m[1] as string), child, output: out });
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`the dashboard exited with ${code}: ${err}`)));
  });
}

describe('dashboard access (issue 14 finding 5)', () => {
  let box: Sandbox;
  let dash: { url: URL; child: ChildProcess; output: string };
  let port: number;
  let token: string;
  before(async () => {
    box = sandbox();
    const storage = await sandboxStorage(box);
    const jobKey = await writeManifest(storage, 'mwx0aaaa-secret', 'M000', 1, Date.now());
    await writeStatuses(storage, jobKey, [
      statusRecord(0, Date.now(), { fail: 'secret error text', logs: 'secret log line\n' }),
    ]);
    dash = await start(box);
    port = Number(dash.url.port);
    token = dash.url.searchParams.get('token') ?? '';
  });
  after(() => {
    dash?.child.kill('SIGTERM');
    box.cleanup();
  });

  it('listens on loopback and prints a URL with a fresh 256-bit token', () => {
    assert.equal(dash.url.hostname, '127.0.0.1');
    assert.match(token, /^[0-9a-f]{64}$/);
  });

  it('with the token, the API answers (cookie from the printed URL, or a Bearer header)', async () => {
    const first = await get(port, `/?token=${token}`, { host: `127.0.0.1:${port}` });
    assert.equal(first.status, 302);
    const cookie = String(first.headers['set-cookie']).split(';')[0] as string;
    assert.match(String(first.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    const jobs = await get(port, '/api/jobs', { host: `localhost:${port}`, cookie });
    assert.equal(jobs.status, 200);
    assert.match(jobs.body, /mwx0aaaa-secret/);
    assert.equal((await get(port, '/', { host: `127.0.0.1:${port}`, cookie })).status, 200);
    assert.equal(
      (
        await get(port, '/api/logs?job=mwx0aaaa-secret/M000&call=0', {
          host: `[::1]:${port}`,
          authorization: `Bearer ${token}`,
        })
      ).status,
      200,
    );
  });

  it('a request without its parameter is answered 400 with a typed error naming the parameter', async () => {
    const auth = { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` };
    for (const path of ['/api/job', '/api/logs?call=0', '/api/timeline']) {
      const r = await get(port, path, auth);
      assert.equal(r.status, 400, path);
      assert.deepEqual(JSON.parse(r.body), { error: 'BurstError: the job parameter is missing' }, path);
    }
  });

  it('DNS rebinding: a Host that is not loopback is refused with 403, even with the token', async () => {
    for (const host of [
      'attacker.example',
      `attacker.example:${port}`,
      '127.0.0.1.attacker.example',
      'localhost.attacker.example',
      'a b',
    ]) {
      const r = await get(port, '/api/jobs', { host, authorization: `Bearer ${token}` });
      assert.equal(r.status, 403, host);
      assert.doesNotMatch(r.body, /mwx0aaaa-secret/);
    }
    // No Host at all: Node's HTTP server itself answers 400.
    assert.equal((await get(port, '/api/jobs', { authorization: `Bearer ${token}` })).status, 400);
  });

  it('another local user without the token gets 401 on every API and the page', async () => {
    const paths = [
      '/',
      '/api/jobs',
      '/api/job?job=mwx0aaaa-secret/M000',
      '/api/logs?job=mwx0aaaa-secret/M000&call=0',
      '/api/timeline?job=mwx0aaaa-secret/M000',
    ];
    for (const path of paths) {
      const attempts: Array<Record<string, string>> = [
        {},
        { cookie: `burst_dashboard_${port}=${'0'.repeat(64)}` },
        { authorization: 'Bearer wrong' },
      ];
      for (const headers of attempts) {
        const r = await get(port, path, { host: `127.0.0.1:${port}`, ...headers });
        assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.doesNotMatch(r.body, /secret/);
      }
    }
    assert.equal((await get(port, '/?token=guess', { host: `127.0.0.1:${port}` })).status, 401);
  });

  it('the host given with --host is accepted as a Host name; 0.0.0.0 accepts only loopback names', async () => {
    const other = await start(box, ['--host', '0.0.0.0']);
    try {
      const p = Number(other.url.port);
      const t = other.url.searchParams.get('token') ?? '';
      assert.equal((await get(p, '/api/jobs', { host: `localhost:${p}`, authorization: `Bearer ${t}` })).status, 200);
      assert.equal((await get(p, '/api/jobs', { host: `0.0.0.0:${p}`, authorization: `Bearer ${t}` })).status, 403);
      assert.equal(
        (await get(p, '/api/jobs', { host: `attacker.example:${p}`, authorization: `Bearer ${t}` })).status,
        403,
      );
      assert.equal(
        (await get(p, '/api/jobs', { host: `localhost:${p}`, authorization: `Bearer ${token}` })).status,
        401,
        'each run has its own token',
      );
    } finally {
      other.child.kill('SIGTERM');
    }
  });
});
