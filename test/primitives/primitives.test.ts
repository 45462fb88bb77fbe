/**
 * The primitives on the localhost backend: the shared suite on the client's in-process store and on
 * the real Redis server (scripts/services/redis.sh); then cleanup with the executor, the errors for
 * an unreachable Redis and a remote backend without one, the local server started only when a task
 * uses it (worker threads, worker processes, the storage channel), and attacks on the local socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, FunctionExecutor, PrimitiveError } from '../../src/index.ts';
import { ensureRedis, type RedisService } from '../services.ts';
import { primitivesSuite } from './suite.ts';
import { bump, endpointOf, squatThenUse } from './tasks.ts';

const root = await mkdtemp(join(tmpdir(), 'burst-prim-test-'));
process.on('exit', () => void rm(root, { recursive: true, force: true }));
const redis = await ensureRedis();
const skipRedis = 'skip' in redis ? `Redis unavailable: ${redis.skip}` : undefined;

primitivesSuite('primitives in the client (localhost)', {
  skip: async () => undefined,
  options: async () => ({ workers: 4, fs: { root }, progress: false }),
});

primitivesSuite('primitives on Redis (localhost)', {
  skip: async () => skipRedis,
  options: async () => ({ workers: 4, fs: { root }, progress: false, redis: { url: (redis as RedisService).url } }),
});

test('close() deletes the executor primitives from Redis', { skip: skipRedis }, async () => {
  const fexec = new FunctionExecutor({ fs: { root }, progress: false, redis: { url: (redis as RedisService).url } });
  const prefix = fexec.primitives.prefix;
  await fexec.primitives.queue('q').put(1);
  await fexec.primitives.forJob('M000').counter('c').add(2);
  const { Redis } = await import('ioredis');
  const probe = new Redis((redis as RedisService).url);
  try {
    assert.equal((await probe.keys(`${prefix}*`)).length, 2);
    await fexec.close();
    assert.deepEqual(await probe.keys(`${prefix}*`), []);
  } finally {
    probe.disconnect();
  }
});

test('Redis unreachable: PRIMITIVES_UNREACHABLE naming the address, refused or silent', async () => {
  // A loopback server that accepts connections and never answers: connecting must still end.
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (silent.address() as { port: number }).port;
  try {
    for (const url of ['redis://127.0.0.1:1', `redis://:pw@127.0.0.1:${port}`]) {
      const fexec = new FunctionExecutor({ fs: { root }, progress: false, redis: { url, connectTimeoutMs: 500 } });
      const err = await fexec.primitives
        .counter('x')
        .add()
        .catch((e: unknown) => e);
      await fexec.close();
      assert.ok(err instanceof PrimitiveError, String(err));
      assert.equal(err.code, 'PRIMITIVES_UNREACHABLE');
      assert.match(err.message, new RegExp(`redis://127\\.0\\.0\\.1:${url.endsWith(':1') ? 1 : port}`));
      assert.doesNotMatch(err.message, /:pw@/);
    }
  } finally {
    silent.close();
  }
});

test('a remote backend without Redis: a ConfigError saying to set redis.url', () => {
  const fexec = new FunctionExecutor({ backend: 'slurm', fs: { root }, progress: false });
  assert.throws(
    () => fexec.primitives,
    (e: unknown) => e instanceof ConfigError && e.keyPath === 'redis.url' && /BURST_REDIS_URL/.test(e.message),
  );
  assert.throws(
    () => new FunctionExecutor({ redis: { url: 'http://x' } }),
    (e: unknown) => e instanceof ConfigError && e.keyPath === 'redis.url',
  );
  assert.throws(
    () => new FunctionExecutor({ backend: 'slurm', primitives: 'local' }).primitives,
    (e: unknown) => e instanceof ConfigError && e.keyPath === 'primitives',
  );
});

test('attack: the local socket refuses a client without the token, and serves one with it', async () => {
  const fexec = new FunctionExecutor({ workers: 1, fs: { root }, progress: false });
  try {
    await fexec.primitives.counter('secret').add(41);
    await (await fexec.map(bump, ['started'])).getResult(); // a task's use starts the socket
    const endpoint = JSON.parse((await (await fexec.callAsync(endpointOf, 0)).result()) as string) as {
      socket: string;
      token: string;
    };
    const ask = (token: string): Promise<string> =>
      new Promise((resolve) => {
        const s = connect(endpoint.socket, () => {
          s.write(`${token}\n${JSON.stringify({ i: 1, op: 'incr', a: [`${fexec.primitives.prefix}c:secret`, 1] })}\n`);
        });
        let got = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          got += d;
          if (got.includes('\n')) s.end();
        });
        s.on('close', () => resolve(got));
        s.on('error', () => undefined);
      });
    assert.equal(await ask('0'.repeat(endpoint.token.length)), '');
    assert.equal(await ask('guess'), '');
    assert.equal(await fexec.primitives.counter('secret').get(), 41);
    assert.match(await ask(endpoint.token), /"ok":true,"v":42/);
  } finally {
    await fexec.close();
  }
});

/** The endpoint a task of `fexec` gets: the socket path and token. */
async function taskEndpoint(fexec: FunctionExecutor): Promise<{ socket: string; token: string }> {
  return JSON.parse((await (await fexec.callAsync(endpointOf, 0)).result()) as string);
}

for (const [name, localhost] of [
  ['worker threads', { isolation: 'thread' }],
  ['worker processes', { isolation: 'process' }],
] as const) {
  test(`the local server listens only once a task uses the primitives (${name})`, async () => {
    const fexec = new FunctionExecutor({ workers: 2, fs: { root }, progress: false, localhost });
    try {
      // Neither maps whose tasks never touch ctx.primitives nor the client's own use need the socket.
      await fexec.primitives.counter('client').add(1);
      const endpoint = await taskEndpoint(fexec);
      await (await fexec.map((x: number) => x + 1, [1, 2, 3])).getResult();
      assert.equal(existsSync(dirname(endpoint.socket)), false, 'no folder, no socket before a task needs one');
      // The first use from each worker asks the client, which starts the server once.
      const seen = await (await fexec.map(bump, Array(6).fill('lazy'))).getResult();
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6],
      );
      assert.equal(await fexec.primitives.counter('lazy').get(), 6);
      assert.equal(existsSync(endpoint.socket), true);
      assert.deepEqual(await taskEndpoint(fexec), endpoint, 'one endpoint for the executor');
    } finally {
      await fexec.close();
    }
  });
}

test('the storage channel: its workers cannot ask, so the server listens before the job', async () => {
  const fexec = new FunctionExecutor({ workers: 2, fs: { root }, progress: false, localhost: { channel: 'storage' } });
  try {
    const seen = await (await fexec.map(bump, Array(4).fill('eager'))).getResult();
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [1, 2, 3, 4],
    );
    const endpoint = await taskEndpoint(fexec);
    assert.equal(existsSync(endpoint.socket), true);
  } finally {
    await fexec.close();
  }
});

test('attack: a folder squatted at the planned socket path is refused, never served from or connected to', async () => {
  const fexec = new FunctionExecutor({ workers: 1, fs: { root }, progress: false });
  try {
    const got = (await (await fexec.callAsync(squatThenUse, 0)).result()) as string;
    assert.match(got, /^PRIMITIVES_UNREACHABLE: the client could not start its primitives server: .*EEXIST/);
    // The squatter's socket answered nothing: the counter was never touched anywhere.
    assert.equal(await fexec.primitives.counter('squat').get(), 0);
  } finally {
    await fexec.close();
  }
});
