import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionExecutor, ConfigError } from '../../src/index.ts';

const bad: Array<[Record<string, unknown>, string]> = [
  [{ workers: -1 }, 'workers must be a positive integer, got -1'],
  [{ workers: 1.5 }, 'workers must be a positive integer, got 1.5'],
  [{ timeout: 0 }, 'timeout must be a positive number of seconds, got 0'],
  [{ timeout: '10' }, 'timeout must be a positive number of seconds, got "10"'],
  [{ retries: -2 }, 'retries must be a non-negative integer, got -2'],
  [{ runtimeMemory: 8 }, 'runtimeMemory must be an integer number of MB of at least 16, got 8'],
  [{ bucket: '' }, 'bucket must be a non-empty string, got ""'],
  [{ progress: 'yes' }, 'progress must be a boolean, got "yes"'],
  [{ worker: 2 }, 'unknown option "worker"; did you mean "workers"?'],
];

for (const [options, message] of bad) {
  test(`rejects ${JSON.stringify(options)} at construction`, () => {
    assert.throws(
      () => new FunctionExecutor(options),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, message);
        assert.equal(err.keyPath, Object.keys(options)[0]);
        return true;
      },
    );
  });
}

test('defaults need no configuration', () => {
  const fexec = new FunctionExecutor();
  assert.equal(fexec.options.backend, 'localhost');
  assert.equal(fexec.options.storage, 'fs');
  assert.equal(fexec.options.timeout, 600);
  assert.equal(fexec.options.retries, 0);
  assert.ok(fexec.options.workers >= 1);
});

test('a config file supplies options and the constructor overrides it', async () => {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'burst-cfg-'));
  const file = join(dir, 'burst.json');
  await writeFile(file, JSON.stringify({ timeout: 30, retries: 2 }));
  const fexec = new FunctionExecutor({ config: file, retries: 1 });
  assert.equal(fexec.options.timeout, 30);
  assert.equal(fexec.options.retries, 1);
  await writeFile(file, '{ not json');
  assert.throws(
    () => new FunctionExecutor({ config: file }),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith(`the config file ${file} is not valid`),
  );
  assert.throws(
    () => new FunctionExecutor({ config: join(dir, 'missing.json') }),
    (e: unknown) => e instanceof ConfigError && /cannot read the config file/.test(e.message),
  );
});

test('per-call options are validated before anything runs', async () => {
  const fexec = new FunctionExecutor();
  try {
    await assert.rejects(
      fexec.map((x: number) => x, [1], { chunksize: 0 }),
      { message: 'chunksize must be a positive integer, got 0' },
    );
    await assert.rejects(
      fexec.map((x: number) => x, [1], { env: { A: 1 as unknown as string } }),
      { message: 'env must be an object of string values, got an object' },
    );
    await assert.rejects(
      fexec.map((x: number) => x, 5 as unknown as number[]),
      { message: 'inputs must be an array, an iterable or an async iterable, got number' },
    );
  } finally {
    await fexec.close();
  }
});
