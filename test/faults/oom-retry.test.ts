/**
 * Per-map memory and the opt-in retry of out-of-memory calls with more memory, on localhost (both
 * channels): a call that allocates ~90 MB in a 64 MB heap fails with OutOfMemoryError, then runs
 * again with 128 MB and succeeds. Executions are counted with marker files.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, FunctionExecutor, OutOfMemoryError } from '../../src/index.ts';
import { countedRun, runsOf } from './fixtures/counted.ts';
import { ensureSlurm, type SlurmService } from '../services.ts';

for (const channel of ['ipc', 'storage'] as const) {
  test(`a call out of memory in a 64 MB heap is retried with 128 MB and succeeds (localhost ${channel} channel)`, {
    timeout: 180_000,
  }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-oom-'));
    const fexec = new FunctionExecutor({ localhost: { channel }, fs: { root }, workers: 1, progress: false });
    try {
      // Without oomRetry, the same call fails: the heap really is too small.
      const [plain] = await fexec.map(countedRun, [{ dir: root, id: 0, allocateMB: 90 }], { runtimeMemory: 64 });
      await assert.rejects(plain!.result({ timeout: 120 }), OutOfMemoryError);
      const [f] = await fexec.map(countedRun, [{ dir: root, id: 1, allocateMB: 90 }], {
        runtimeMemory: 64,
        oomRetry: { factor: 2, maxMemory: 256 },
      });
      assert.equal(await f!.result({ timeout: 120 }), 10);
      assert.equal(f!.stats.attempt, 2);
      assert.ok(
        f!.attempts[0] instanceof OutOfMemoryError,
        `the first attempt ran out of memory: ${String(f!.attempts[0])}`,
      );
      assert.deepEqual(runsOf(root, [0, 1]), [1, 2], 'the OOM call ran twice: once out of memory, once with more');
      // A small call of another map still runs with the executor's default heap.
      const [small] = await fexec.map(countedRun, [{ dir: root, id: 2 }]);
      assert.equal(await small!.result({ timeout: 60 }), 20);
    } finally {
      await fexec.close();
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('oomRetry is checked: it needs runtimeMemory, a maxMemory above it, and a backend that can grow memory', async () => {
  const fexec = new FunctionExecutor({ progress: false });
  try {
    await assert.rejects(
      fexec.map(countedRun, [], { oomRetry: { maxMemory: 512 } }),
      (e: unknown) => e instanceof ConfigError && /oomRetry needs runtimeMemory/.test(e.message),
    );
    await assert.rejects(
      fexec.map(countedRun, [], { runtimeMemory: 256, oomRetry: { maxMemory: 128 } }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /oomRetry.maxMemory must be an integer number of MB above runtimeMemory \(256\), got 128/.test(e.message),
    );
    await assert.rejects(
      fexec.map(countedRun, [], { runtimeMemory: 256, oomRetry: { factor: 1, maxMemory: 512 } }),
      (e: unknown) => e instanceof ConfigError && /oomRetry.factor must be a number greater than 1/.test(e.message),
    );
    await assert.rejects(
      fexec.map(countedRun, [], { runtimeMemory: 8 }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /runtimeMemory must be an integer number of MB of at least 16, got 8/.test(e.message),
    );
  } finally {
    await fexec.close();
  }
  const lambda = new FunctionExecutor({ backend: 'aws_lambda', progress: false });
  try {
    await assert.rejects(
      lambda.map(countedRun, [{ dir: '/nonexistent', id: 1 }], { runtimeMemory: 256, oomRetry: { maxMemory: 1024 } }),
      (e: unknown) => e instanceof ConfigError && /oomRetry is not supported on the aws_lambda backend/.test(e.message),
    );
  } finally {
    await lambda.close();
  }
});

const slurm = await ensureSlurm();
test("on Slurm, an out-of-memory call is retried with more memory (--mem and the workers' heap)", {
  skip: 'skip' in slurm ? `Slurm cluster unavailable: ${slurm.skip}` : undefined,
  timeout: 180_000,
}, async () => {
  const cluster = slurm as SlurmService;
  const root = await mkdtemp(join('/var/tmp', 'burst-oom-slurm-'));
  const fexec = new FunctionExecutor({
    backend: 'slurm',
    fs: { root, shared: true },
    slurm: { partition: cluster.partition },
    progress: false,
  });
  try {
    const [f] = await fexec.map(countedRun, [{ dir: root, id: 0, allocateMB: 90 }], {
      runtimeMemory: 64,
      oomRetry: { maxMemory: 256 },
    });
    assert.equal(await f!.result({ timeout: 150 }), 0);
    assert.equal(f!.stats.attempt, 2);
    assert.ok(
      f!.attempts[0] instanceof OutOfMemoryError,
      `the first attempt ran out of memory: ${String(f!.attempts[0])}`,
    );
    assert.deepEqual(runsOf(root, [0]), [2]);
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
});
