/**
 * The primitives from tasks on the two-node Slurm cluster (each node its own network namespace): on
 * the real Redis at the bridge address the nodes reach, and the ConfigError a task gets when the
 * executor has no Redis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { FunctionExecutor } from '../../src/index.ts';
import { ensureRedis, ensureSlurm, type RedisService, type SlurmService } from '../services.ts';
import { primitivesSuite } from './suite.ts';
import { primitivesError } from './tasks.ts';

const slurm = await ensureSlurm();
const redis = await ensureRedis();
const skip =
  'skip' in slurm
    ? `Slurm cluster unavailable: ${slurm.skip}`
    : 'skip' in redis
      ? `Redis unavailable: ${redis.skip}`
      : undefined;
// /var/tmp is on the disk every "node" of the test cluster sees at the same path.
const sharedRoot = (): Promise<string> => mkdtemp(join('/var/tmp', 'burst-slurm-prim-'));

primitivesSuite('primitives on Redis from Slurm tasks', {
  skip: async () => skip,
  options: async () => ({
    backend: 'slurm',
    fs: { root: await sharedRoot(), shared: true },
    slurm: { partition: (slurm as SlurmService).partition },
    progress: false,
    // This host reaches Redis on loopback; the nodes at the bridge's host end.
    redis: { url: (redis as RedisService).url, workerUrl: (redis as RedisService).clusterUrl },
  }),
});

test('a Slurm task of an executor without Redis gets a ConfigError naming redis.url', { skip }, async () => {
  const fexec = new FunctionExecutor({
    backend: 'slurm',
    fs: { root: await sharedRoot(), shared: true },
    slurm: { partition: (slurm as SlurmService).partition },
    progress: false,
  });
  try {
    const said = await (await fexec.callAsync(primitivesError, 0)).result();
    assert.match(
      said,
      /^CONFIG: ctx\.primitives of call 0 of job \w+ is unavailable.*redis: \{ url \}.*BURST_REDIS_URL/,
    );
  } finally {
    await fexec.close();
  }
});

test('attack: the test Redis refuses commands without its password, on loopback and from a Slurm node', {
  skip,
}, async () => {
  const url = new URL((redis as RedisService).clusterUrl);
  const run = promisify(execFile);
  const ask = async (prefix: string[], host: string, extra: string[] = []): Promise<string> => {
    const [cmd, ...args] = [...prefix, 'redis-cli', '-h', host, '-p', url.port, ...extra, '--no-auth-warning', 'ping'];
    const { stdout, stderr } = await run(cmd as string, args).catch((e: { stdout: string; stderr: string }) => e);
    return stdout + stderr;
  };
  const node = (slurm as SlurmService).nodes[0] as string;
  assert.match(await ask([], '127.0.0.1'), /NOAUTH/);
  assert.match(await ask(['ip', 'netns', 'exec', node], url.hostname), /NOAUTH/);
  assert.match(await ask(['ip', 'netns', 'exec', node], url.hostname, ['-a', 'guess']), /WRONGPASS/);
  assert.match(
    await ask(['ip', 'netns', 'exec', node], url.hostname, ['-a', decodeURIComponent(url.password)]),
    /PONG/,
  );
});
