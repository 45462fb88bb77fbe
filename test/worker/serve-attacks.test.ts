/**
 * Issue 14 attacks, performed against real `burst worker serve` processes on 127.0.0.1: an open
 * server, a request that names its own storage, call lists that would exhaust memory, a forged and an
 * altered job, slow clients holding the slots, and a user function that reads the worker's secrets.
 * Each test does what an attacker on the same machine or network would, then checks what happened
 * (files written, code run, other clients served), never how long it took.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, IntegrityError } from '../../src/index.ts';
import { keys } from '../../src/job/layout.ts';
import type { JobManifest } from '../../src/job/manifest.ts';
import type { StoredStatus } from '../../src/job/status.ts';
import { signManifest } from '../../src/security/signing.ts';
import { startServe, type ServeProcess } from '../serve-hosts.ts';
import { addSeven } from '../fixtures/tasks.ts';
import {
  BUCKET,
  SIGNING_KEY,
  TOKEN,
  forgeJob,
  fsConfig,
  invoke,
  markerBundle,
  plantBundle,
  startSecured,
} from './serve-fixtures.ts';

/** What a user function can see of the worker's environment. */
export function readSecrets(): Record<string, string | null> {
  const names = ['BURST_SERVE_TOKEN', 'BURST_STORAGE_CONFIG', 'BURST_SIGNING_KEY', 'BURST_TEST_VISIBLE'];
  return Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
}

const TEST_TIMEOUT_MS = 60_000;
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-serve-attacks-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `dir`, as relative paths (empty when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const statusAt = async (storageRoot: string, jobKey: string, callId: number, attempt = 1): Promise<StoredStatus> =>
  JSON.parse(await readFile(join(storageRoot, BUCKET, keys.status(jobKey, callId, attempt)), 'utf8')) as StoredStatus;

const executor = (server: ServeProcess, storageRoot: string, signingKey = SIGNING_KEY): FunctionExecutor =>
  new FunctionExecutor({
    backend: 'knative',
    knative: { url: server.url, token: TOKEN },
    fs: { root: storageRoot, shared: true },
    signingKey,
    progress: false,
  });

/** Runs `burst worker serve` with `args` and `env` and expects it to refuse to start; resolves with its output. */
async function refusedToStart(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const failure = await startServe({ addr: '127.0.0.1', port: 0, args, env }).then(
    async (s) => {
      await s.stop('SIGKILL');
      return undefined;
    },
    (err: Error) => err.message,
  );
  assert.ok(failure !== undefined, `burst worker serve started with ${args.join(' ')}`);
  assert.match(failure, /exited with 1/);
  return failure;
}

describe('burst worker serve refuses to start open', () => {
  const storage = ['--storage-config', JSON.stringify({ driver: 'fs', options: { root: tmpdir() } })];

  test('no token: refused, naming BURST_SERVE_TOKEN and --insecure', async () => {
    // startServe passes the test's environment: unset the variable explicitly.
    const out = await refusedToStart(storage, { BURST_SERVE_TOKEN: undefined });
    assert.match(out, /set BURST_SERVE_TOKEN to a secret.*--insecure/);
  });

  test('an empty BURST_SERVE_TOKEN= is refused, not silently open', async () => {
    assert.match(await refusedToStart(storage, { BURST_SERVE_TOKEN: '' }), /BURST_SERVE_TOKEN is set but empty/);
  });

  test('a token but no signing key: refused, naming BURST_SIGNING_KEY and --allow-unsigned-jobs', async () => {
    assert.match(
      await refusedToStart(storage, { BURST_SERVE_TOKEN: TOKEN, BURST_SIGNING_KEY: undefined }),
      /set BURST_SIGNING_KEY.*--allow-unsigned-jobs/,
    );
  });

  test('--insecure on a non-loopback address is refused', async () => {
    assert.match(
      await refusedToStart([...storage, '--insecure', '--host', '0.0.0.0'], {}),
      /--insecure listens on loopback only/,
    );
  });

  test('--insecure listens on 127.0.0.1 only: another address of this host is refused', async () => {
    const server = await startServe({
      addr: '127.0.0.1',
      port: 0,
      args: [...storage, '--insecure'],
      env: { BURST_SERVE_TOKEN: undefined },
    });
    try {
      assert.match(server.output(), /listening on 127\.0\.0\.1:\d+ \(NO TOKEN/);
      assert.equal((await server.health()).ok, true);
      const other = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal);
      if (other) {
        const port = new URL(server.url).port;
        const reached = await fetch(`http://${other.address}:${port}/healthz`).then(
          () => true,
          () => false,
        );
        assert.equal(reached, false, `reached the --insecure server at ${other.address}`);
      }
    } finally {
      await server.stop();
    }
  });
});

describe('attacks on a secured burst worker serve', () => {
  let server: ServeProcess;
  let storageRoot: string;
  before(async () => {
    storageRoot = join(root, 'served');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(storageRoot, BUCKET), { recursive: true }));
    server = await startSecured(storageRoot, { args: ['--concurrency', '2'], env: { BURST_TEST_VISIBLE: 'yes' } });
  });
  after(async () => {
    await server.stop('SIGKILL');
  });

  test('a request naming its own storage (fs root "/") is refused and writes nothing', async () => {
    const elsewhere = await mkdtemp(join(root, 'attacker-'));
    const before = await filesUnder(storageRoot);
    for (const storage of [
      { driver: 'fs', options: { root: '/' } },
      { driver: 'fs', options: { root: elsewhere } },
      { driver: 's3', options: { endpoint: 'http://169.254.169.254' } },
    ]) {
      const r = await invoke(server.url, {
        bucket: 'tmp',
        jobKey: 'burst/jobs/x/M000',
        calls: '0-5000',
        attempt: 1,
        storage,
      });
      assert.equal(r.status, 400);
      assert.match(String(r.json.error), /"storage" is not accepted/);
    }
    // Paths out of the Burst root, and buckets that are paths, are refused too.
    for (const [field, value] of [
      ['jobKey', 'burst/jobs/../../etc'],
      ['jobKey', '../x/y/z'],
      ['jobKey', 'burst/jobs/a/b/c'],
      ['bucket', '..'],
      ['bucket', '../tmp'],
    ] as const) {
      const r = await invoke(server.url, {
        bucket: BUCKET,
        jobKey: 'burst/jobs/x/M000',
        calls: '0',
        attempt: 1,
        [field]: value,
      });
      assert.equal(r.status, 400, `${field} ${value}`);
      assert.match(String(r.json.error), new RegExp(`"${field}" must`));
    }
    assert.deepEqual(await filesUnder(elsewhere), []);
    assert.deepEqual(await filesUnder(storageRoot), before, "nothing was written to the server's storage");
  });

  test('a job that is not in storage is a 404 and writes no status', async () => {
    const r = await invoke(server.url, {
      bucket: BUCKET,
      jobKey: 'burst/jobs/nobody/M000',
      calls: '0-5000',
      attempt: 1,
    });
    assert.equal(r.status, 404);
    assert.deepEqual(await filesUnder(join(storageRoot, BUCKET, 'burst/jobs/nobody')), []);
  });

  test('huge call lists are a 400 and the server keeps serving', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const calls of ['0-99999999', `0-${'9'.repeat(400)}`, '0-5999,6000-11999']) {
      const r = await invoke(server.url, { bucket: BUCKET, jobKey: 'burst/jobs/nobody/M000', calls, attempt: 1 });
      assert.equal(r.status, 400, calls.slice(0, 20));
      assert.match(String(r.json.error), /more than 10000 calls|at most 9 digits/);
    }
    // A real job: calls beyond its call count are refused before any status is written.
    const fexec = executor(server, storageRoot);
    try {
      const futures = await fexec.map(addSeven, [1, 2]);
      assert.deepEqual(await fexec.getResult(futures), [8, 9]);
      const jobKey = keys.job(fexec.executorId, futures[0]?.jobId as string);
      const r = await invoke(server.url, { bucket: BUCKET, jobKey, calls: '0-4999', attempt: 2 });
      assert.equal(r.status, 400);
      assert.match(String(r.json.error), /names call 4999, but job .* has 2 calls/);
      assert.deepEqual(await filesUnder(join(storageRoot, BUCKET, jobKey, 'status')), ['00000.1', '00001.1']);
    } finally {
      await fexec.close();
    }
    assert.equal((await server.health()).ok, true);
  });

  test('a forged job (bundle and job.json written straight into storage) is refused: IntegrityError, its code never runs', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const marker = join(root, 'forged-ran.txt');
    const jobKey = await forgeJob(storageRoot, marker);
    const r = await invoke(server.url, { bucket: BUCKET, jobKey, calls: '0', attempt: 1 });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { succeeded: 0, failed: 1 });
    const status = await statusAt(storageRoot, jobKey, 0);
    assert.equal(status.error?.kind, 'integrity');
    assert.equal(status.error?.name, 'IntegrityError');
    assert.match(status.error?.message ?? '', /is not signed/);
    assert.equal(existsSync(marker), false, 'the forged bundle ran');
  });

  test('the same forged job runs on a server that accepts unsigned jobs (the attack is real)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const open = await startServe({
      addr: '127.0.0.1',
      port: 0,
      args: ['--insecure', '--storage-config', fsConfig(storageRoot)],
      env: { BURST_SERVE_TOKEN: undefined, BURST_SIGNING_KEY: undefined },
    });
    try {
      const marker = join(root, 'forged-ran-open.txt');
      const jobKey = await forgeJob(storageRoot, marker);
      assert.deepEqual((await invoke(open.url, { bucket: BUCKET, jobKey, calls: '0', attempt: 1 }, undefined)).json, {
        succeeded: 1,
        failed: 0,
      });
      assert.equal(existsSync(marker), true);
    } finally {
      await open.stop();
    }
  });

  test('an altered signed job is refused: another bundle, or the same job signed with another key', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const fexec = executor(server, storageRoot);
    let jobKey: string;
    try {
      const futures = await fexec.map(addSeven, [1]);
      assert.deepEqual(await fexec.getResult(futures), [8]);
      jobKey = keys.job(fexec.executorId, futures[0]?.jobId as string);
    } finally {
      await fexec.close();
    }
    const manifestFile = join(storageRoot, BUCKET, keys.manifest(jobKey));
    const signed = JSON.parse(await readFile(manifestFile, 'utf8')) as JobManifest;
    assert.match(signed.signature ?? '', /^[0-9a-f]{64}$/);
    const marker = join(root, 'altered-ran.txt');
    const alterations: Partial<JobManifest>[] = [
      { functionHash: await plantBundle(storageRoot, markerBundle(marker)) },
      { env: { NODE_OPTIONS: `--import=${marker}` } },
      { timeoutSeconds: 1 },
    ];
    const { signature: _signature, ...unsigned } = signed;
    const otherKey = {
      signature: signManifest('an-attackers-own-key-0123456789', unsigned, { bucket: BUCKET, jobKey }),
    };
    for (const change of [...alterations, otherKey]) {
      await writeFile(manifestFile, JSON.stringify({ ...signed, ...change }));
      const r = await invoke(server.url, { bucket: BUCKET, jobKey, calls: '0', attempt: 2 });
      assert.deepEqual(r.json, { succeeded: 0, failed: 1 }, JSON.stringify(change));
      const status = await statusAt(storageRoot, jobKey, 0, 2);
      assert.equal(status.error?.kind, 'integrity');
      assert.match(status.error?.message ?? '', /does not match its contents/);
    }
    assert.equal(existsSync(marker), false, "the altered job's bundle ran");
    // Unaltered, it runs again: the refusals were the alterations'.
    await writeFile(manifestFile, JSON.stringify(signed));
    assert.deepEqual((await invoke(server.url, { bucket: BUCKET, jobKey, calls: '0', attempt: 3 })).json, {
      succeeded: 1,
      failed: 0,
    });
  });

  test('a client with another signing key gets IntegrityError on its futures', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const fexec = executor(server, storageRoot, 'not-the-servers-key-0123456789');
    try {
      const futures = await fexec.map(addSeven, [1]);
      const [result] = await fexec.getResult(futures, { throwOnError: false });
      assert.ok(result instanceof IntegrityError, `got ${String(result)}`);
    } finally {
      await fexec.close();
    }
  });

  test('two clients trickling their bodies do not starve a third', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Both slots' worth of connections send headers promising a body, then a byte every 300 ms.
    const answers: Promise<string>[] = [];
    const sockets: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    const port = Number(new URL(server.url).port);
    for (let i = 0; i < 2; i++) {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      let got = '';
      answers.push(
        new Promise((resolve) => {
          socket.on('data', (d: Buffer) => (got += d.toString()));
          socket.on('close', () => resolve(got));
          socket.on('error', () => undefined);
        }),
      );
      socket.write(
        `POST /invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n`,
      );
      timers.push(setInterval(() => socket.writable && socket.write(' '), 300));
    }
    try {
      const fexec = executor(server, storageRoot);
      try {
        // Served while both trickle: the test's timeout is the only bound on the wait.
        const futures = await fexec.map(addSeven, [1, 2, 3]);
        assert.deepEqual(await fexec.getResult(futures), [8, 9, 10]);
      } finally {
        await fexec.close();
      }
      // The trickling clients are cut off with 408 once the body deadline passes.
      for (const answer of await Promise.all(answers)) assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    }
  });

  test('a user function cannot read the token, the storage configuration or the signing key', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // Storage from BURST_STORAGE_CONFIG this time, so all three secrets are in the server's environment.
    const envServer = await startServe({
      addr: '127.0.0.1',
      port: 0,
      args: ['--host', '127.0.0.1'],
      env: {
        BURST_SERVE_TOKEN: TOKEN,
        BURST_SIGNING_KEY: SIGNING_KEY,
        BURST_STORAGE_CONFIG: fsConfig(storageRoot),
        BURST_TEST_VISIBLE: 'yes',
      },
    });
    const fexec = executor(envServer, storageRoot);
    try {
      const futures = await fexec.map(readSecrets, [0]);
      const [seen] = await fexec.getResult(futures);
      assert.deepEqual(seen, {
        BURST_SERVE_TOKEN: null,
        BURST_STORAGE_CONFIG: null,
        BURST_SIGNING_KEY: null,
        BURST_TEST_VISIBLE: 'yes',
      });
    } finally {
      await fexec.close();
      await envServer.stop();
    }
  });
});
