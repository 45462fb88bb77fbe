/**
 * The Slurm backend on a real two-node cluster (scripts/services/slurm.sh): the shared backend suite
 * with storage on a shared fs path and on the Ceph gateway, and Slurm-specific failures.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { FunctionExecutor, ConfigError, WorkerCrashError, BurstError, StoredResult } from '../../src/index.ts';
import { ensureCeph, ensureSlurm, type CephService, type SlurmService } from '../services.ts';
import { backendSuite } from './suite.ts';
import { addSeven, sleepMs } from '../fixtures/tasks.ts';
import { generate } from '../faults/fixtures/large-tasks.ts';
import { digest, pattern } from '../faults/fixtures/pattern.ts';

const slurm = await ensureSlurm();
const skipSlurm = 'skip' in slurm ? `Slurm cluster unavailable: ${slurm.skip}` : undefined;
const cluster = slurm as SlurmService;
// /var/tmp is on the disk every "node" of the test cluster sees at the same path.
const sharedRoot = (): Promise<string> => mkdtemp(join('/var/tmp', 'burst-slurm-'));

backendSuite('slurm (fs on a shared path)', {
  skip: async () => skipSlurm,
  options: async () => ({
    backend: 'slurm',
    fs: { root: await sharedRoot(), shared: true },
    slurm: { partition: cluster.partition },
    progress: false,
  }),
});

backendSuite('slurm (s3 on the Ceph gateway)', {
  skip: async () => {
    if (skipSlurm) return skipSlurm;
    const ceph = await ensureCeph();
    return 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
  },
  options: async () => {
    const ceph = (await ensureCeph()) as CephService;
    // The nodes reach the gateway at the bridge address; so does this host.
    const s3 = {
      endpoint: ceph.clusterEndpoint,
      region: ceph.region,
      accessKeyId: ceph.accessKeyId,
      secretAccessKey: ceph.secretAccessKey,
      forcePathStyle: true,
    };
    return {
      backend: 'slurm',
      storage: 's3',
      s3,
      bucket: 'burst-slurm-suite',
      slurm: { partition: cluster.partition },
      progress: false,
    };
  },
});

describe('slurm backend specifics', { skip: skipSlurm }, () => {
  let root: string;
  before(async () => {
    root = await sharedRoot();
  });

  test('spreads one map over both nodes as one array job', async () => {
    const fexec = new FunctionExecutor({
      backend: 'slurm',
      fs: { root, shared: true },
      // --exclusive: a node holds one task at a time, so the second running task must go to the
      // other node. Without it, Slurm may (and once did) place all eight on one 32-CPU node.
      slurm: { partition: cluster.partition, maxConcurrency: 4, sbatchArgs: ['--exclusive'] },
      progress: false,
    });
    try {
      const futures = await fexec.map(
        sleepMs,
        Array.from({ length: 8 }, () => 300),
      );
      assert.deepEqual(
        await fexec.getResult(futures),
        Array.from({ length: 8 }, () => 300),
      );
      const hosts = new Set(Array.from(futures, (f) => f.stats.hostname));
      assert.equal(hosts.size, 2, `calls ran on ${[...hosts].join(', ')}`);
      assert.deepEqual([...hosts].sort(), [...cluster.nodes].sort());
    } finally {
      await fexec.close();
    }
  });

  test('chunksize puts several calls in one array task', async () => {
    const fexec = new FunctionExecutor({
      backend: 'slurm',
      fs: { root, shared: true },
      slurm: { partition: cluster.partition },
      progress: false,
    });
    try {
      const futures = await fexec.map(addSeven, [1, 2, 3, 4, 5], { chunksize: 5 });
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10, 11, 12]);
      assert.equal(
        new Set(Array.from(futures, (f) => `${f.stats.hostname}/${f.stats.pid}`)).size,
        1,
        'one task ran all five calls in one worker process',
      );
    } finally {
      await fexec.close();
    }
  });

  test("a task cancelled by Slurm fails its calls with Slurm's state instead of hanging", async () => {
    const fexec = new FunctionExecutor({
      backend: 'slurm',
      fs: { root, shared: true },
      slurm: { partition: cluster.partition },
      progress: false,
    });
    try {
      const futures = await fexec.map(sleepMs, [60_000]);
      // Wait until the task runs, then cancel it behind Burst's back.
      const { execFileSync } = await import('node:child_process');
      const name = `burst-${fexec.executorId}-${futures[0]!.jobId}`;
      for (let i = 0; i < 100; i++) {
        if (execFileSync('squeue', ['-h', '-n', name, '-t', 'RUNNING', '-o', '%i']).toString().trim()) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      execFileSync('scancel', ['-n', name]);
      const [result] = await fexec.getResult(futures, { throwOnError: false, timeout: 60 });
      assert.ok(result instanceof WorkerCrashError, `got ${String(result)}`);
      assert.match(result.message, /CANCELLED/);
    } finally {
      await fexec.close();
    }
  });

  test('a function that returns a stream yields a StoredResult, stored by the task and read back intact', {
    timeout: 120_000,
  }, async () => {
    const fexec = new FunctionExecutor({
      backend: 'slurm',
      fs: { root, shared: true },
      slurm: { partition: cluster.partition },
      progress: false,
    });
    try {
      const size = 20 * 2 ** 20 + 3;
      const [stored] = await fexec.getResult(await fexec.map(generate, [size]));
      assert.ok(stored instanceof StoredResult, `got ${String(stored)}`);
      assert.equal(stored.size, size);
      const want = await digest(pattern(size));
      assert.equal(stored.sha256, want.sha256, 'hashed on the node as it was stored');
      assert.deepEqual(await digest(await stored.stream()), want);
    } finally {
      await fexec.clean();
      await fexec.close();
    }
  });

  test('a rejected submission is a clear error naming the reason', async () => {
    const fexec = new FunctionExecutor({
      backend: 'slurm',
      fs: { root, shared: true },
      slurm: { partition: 'no-such-partition' },
      progress: false,
    });
    try {
      await assert.rejects(fexec.map(addSeven, [1]), (err: unknown) => {
        assert.ok(err instanceof BurstError);
        assert.equal(err.code, 'SUBMIT_REJECTED');
        assert.match(err.message, /Slurm rejected job M000: .*(invalid partition|no-such-partition)/i);
        return true;
      });
    } finally {
      await fexec.close();
    }
  });

  test('an fs store that is not shared is refused before submission', async () => {
    const fexec = new FunctionExecutor({ backend: 'slurm', fs: { root }, progress: false });
    try {
      await assert.rejects(
        fexec.map(addSeven, [1]),
        (err: unknown) => err instanceof ConfigError && /not reachable from Slurm nodes/.test(err.message),
      );
    } finally {
      await fexec.close();
    }
  });
});

test('without sbatch on PATH the slurm backend says so', async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  const fexec = new FunctionExecutor({
    backend: 'slurm',
    fs: { shared: true, root: '/var/tmp/burst-no-sbatch' },
    progress: false,
  });
  try {
    await assert.rejects(
      fexec.map(addSeven, [1]),
      (err: unknown) =>
        err instanceof ConfigError && /needs the sbatch command, and it is not on PATH/.test(err.message),
    );
  } finally {
    process.env.PATH = saved;
    await fexec.close();
  }
});
