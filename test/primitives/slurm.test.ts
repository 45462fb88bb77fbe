/**
 * The primitives from tasks on the two-node Slurm cluster (each node its own network namespace): on
 * the real Redis at the bridge address the nodes reach, and the ConfigError a task gets when the
 * executor has no Redis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
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
