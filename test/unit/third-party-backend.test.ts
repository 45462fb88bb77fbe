/**
 * A backend defined outside Burst (as another package would) plugs in with one registerBackend call:
 * `map` runs on it, it is listed, its config section is checked against its schema, its BURST_*
 * variables are read, its runtime manager and prices are found. The backend here reuses the
 * localhost storage channel (real worker processes reading and writing a real fs storage) and counts
 * what it is asked to do, so each claim is checked by counting, not only by results.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  FunctionExecutor,
  backendNames,
  defineBackend,
  estimateCost,
  registerBackend,
  selectBackend,
  slurm,
  type BackendOptionsOf,
  type ComputeBackend,
  type RuntimeManager,
} from '../../src/index.ts';
import { loadConfigSync } from '../../src/config/load.ts';
import { runtimeBackends, runtimeManager } from '../../src/runtime/index.ts';
import { pricesOf } from '../../src/stats/cost.ts';
import { resolveOptions } from '../../src/config/defaults.ts';

/** What the relay backend was asked to do. */
const seen = { created: [] as Array<Record<string, unknown>>, invokedCalls: 0 };

const relayRuntimes: RuntimeManager = {
  deploy: async () => ({ name: 'relay-1', backend: 'relay' }),
  list: async () => [],
  delete: async () => [],
};

const relay = defineBackend({
  name: 'relay',
  summary: 'the localhost storage channel, counted (a test backend)',
  options: (z) =>
    z.object({
      /** Worker processes. */
      slots: z
        .number({ error: 'a positive integer' })
        .int({ error: 'a positive integer' })
        .min(1, { error: 'a positive integer' })
        .optional(),
      /** A label, to check strings from the environment. */
      tag: z.string({ error: 'a string' }).optional(),
      /** A switch, to check booleans from the environment. */
      loud: z.boolean({ error: 'a boolean' }).optional(),
    }),
  create: async (options, context): Promise<ComputeBackend> => {
    seen.created.push({ ...options });
    const { localhost } = await import('../../src/backends/localhost/backend.ts');
    const inner = localhost({ channel: 'storage' }, { ...context, workers: options.slots ?? 1 });
    return {
      name: 'relay',
      invoke: async (job, callIds, attempt) => {
        seen.invokedCalls += callIds.length;
        await inner.invoke(job, callIds, attempt);
      },
      lostCalls: (job, callIds) => inner.lostCalls?.(job, callIds) ?? Promise.resolve(new Map()),
      cancel: (job) => inner.cancel(job),
      close: () => inner.close(),
    };
  },
  runtime: async () => relayRuntimes,
  prices: { currency: 'EUR', perGbSecond: 1, perRequest: 0.5, note: 'made-up prices of a test backend' },
});

declare module '../../src/index.ts' {
  interface BackendOptionsMap {
    relay: BackendOptionsOf<typeof relay>;
  }
}

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-relay-'));
  registerBackend(relay);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a third-party backend definition', () => {
  it('is listed among the backends, with its runtime manager and prices', async () => {
    assert.ok(backendNames().includes('relay'), backendNames().join(', '));
    assert.ok(runtimeBackends().includes('relay'));
    assert.equal(await runtimeManager('relay'), relayRuntimes);
    assert.equal(pricesOf('relay')?.currency, 'EUR');
    const cost = estimateCost(
      [{ executorId: 'e', jobId: 'j', callId: 0, status: 'success', stats: { fnStart: 0, fnEnd: 1000 } }],
      { backend: 'relay', memoryMB: 1024 },
    );
    assert.equal(cost?.total, 1.5);
  });

  it('runs map, created with its options (string form and factory form)', async () => {
    const before = { created: seen.created.length, calls: seen.invokedCalls };
    const bySection = new FunctionExecutor({
      backend: 'relay',
      relay: { slots: 2, tag: 'section' },
      fs: { root },
      progress: false,
    });
    try {
      const results = await bySection.getResult(await bySection.map((x: number) => x * 3, [1, 2, 3, 4, 5]));
      assert.deepEqual(results, [3, 6, 9, 12, 15]);
    } finally {
      await bySection.close();
    }
    const byFactory = new FunctionExecutor({
      backend: selectBackend('relay', { slots: 1, tag: 'factory' }),
      fs: { root },
      progress: false,
    });
    try {
      assert.deepEqual(await byFactory.getResult(await byFactory.map((x: number) => x + 1, [10, 20])), [11, 21]);
    } finally {
      await byFactory.close();
    }
    assert.deepEqual(seen.created.slice(before.created), [
      { slots: 2, tag: 'section' },
      { slots: 1, tag: 'factory' },
    ]);
    assert.equal(seen.invokedCalls - before.calls, 7, 'every call went through the relay backend');
  });

  it('refuses an unknown key of its section with the nearest key, and a wrong value with the key path', async () => {
    const created = seen.created.length;
    for (const [relayOptions, message] of [
      [{ slotz: 2 }, 'unknown option "relay.slotz"; did you mean "relay.slots"?'],
      [{ slots: 0 }, 'relay.slots must be a positive integer, got 0'],
    ] as const) {
      const fexec = new FunctionExecutor({
        backend: 'relay',
        relay: relayOptions as never,
        fs: { root },
        progress: false,
      });
      try {
        await assert.rejects(
          fexec.map((x: number) => x, [1]),
          (err: unknown) => err instanceof ConfigError && err.message === message,
        );
      } finally {
        await fexec.close();
      }
    }
    assert.equal(seen.created.length, created, 'no backend was created from bad options');
  });

  it('gets its config file section checked, and its BURST_RELAY_* variables read by kind', async () => {
    const cwd = await mkdtemp(join(root, 'cfg-'));
    await writeFile(
      join(cwd, 'burst.config.json'),
      JSON.stringify({ backend: 'relay', relay: { slots: 'two', tagg: 'x' } }),
    );
    assert.throws(
      () => loadConfigSync({ cwd, env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /relay\.slots must be a positive integer, got "two"/.test(err.message) &&
        /unknown key "relay\.tagg" is ignored; did you mean "relay\.tag"\?/.test(err.message),
    );
    const fromEnv = loadConfigSync({
      cwd: root,
      env: { BURST_RELAY_SLOTS: '3', BURST_RELAY_TAG: 'from-env', BURST_RELAY_LOUD: 'yes' },
    });
    assert.deepEqual(fromEnv.options, { relay: { slots: 3, tag: 'from-env', loud: true } });
    assert.equal(fromEnv.origins['relay.slots'], 'BURST_RELAY_SLOTS');
  });
});

describe('built-in backend sections', () => {
  it("take a factory's options laid over the section of the same name", () => {
    const resolved = resolveOptions({
      backend: slurm({ partition: 'gpu', cpusPerTask: 2 }),
      slurm: { qos: 'high', cpusPerTask: 1 },
    });
    assert.equal(resolved.backend, 'slurm');
    assert.deepEqual(resolved.raw.slurm, { qos: 'high', partition: 'gpu', cpusPerTask: 2 });
  });

  it('refuse an unknown key with the nearest one before the backend starts', async () => {
    const fexec = new FunctionExecutor({ backend: slurm({ partiton: 'gpu' } as never), fs: { root }, progress: false });
    try {
      await assert.rejects(
        fexec.map((x: number) => x, [1]),
        { message: 'unknown option "slurm.partiton"; did you mean "slurm.partition"?' },
      );
    } finally {
      await fexec.close();
    }
  });

  it('read BURST_<BACKEND>_<KEY> variables by the kind in the schema', () => {
    const loaded = loadConfigSync({
      cwd: root,
      env: { BURST_SLURM_CPUS_PER_TASK: '4', BURST_AWS_LAMBDA_REMOTE_INVOKER: 'true', BURST_AWS_LAMBDA_LAYERS: 'a,b' },
    });
    assert.deepEqual(loaded.options, {
      slurm: { cpusPerTask: 4 },
      aws_lambda: { remoteInvoker: true, layers: ['a', 'b'] },
    });
  });
});
