/**
 * The code_engine backend against real HTTP workers: three `burst worker serve` processes, each in its
 * own network namespace (test/backends/http-workers.ts), storage on the Ceph gateway. A Code Engine
 * application is a Knative service whose requests reach the worker unchanged (Code Engine checks no
 * IAM on them), so nothing is faked: the worker's token is the only lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionExecutor, InvocationError, type ExecutorOptions } from '../../src/index.ts';
import { addSeven } from '../fixtures/tasks.ts';
import { backendSuite } from './suite.ts';
import { httpWorkers } from './http-workers.ts';

const workers = await httpWorkers('code-engine');

const options = (urls: string[], codeEngine: Record<string, unknown> = {}): ExecutorOptions => ({
  backend: 'code_engine',
  code_engine: { urls, token: workers.token, concurrency: 12, ...codeEngine },
  ...workers.storageOptions('burst-code-engine-suite'),
});

backendSuite('code_engine (3 burst worker serve hosts, s3 on Ceph)', {
  skip: async () => workers.skip,
  options: async () => options((await workers.servers()).map((s) => s.url)),
});

test('code_engine: a wrong token is a 401 InvocationError that says to set code_engine.token', {
  skip: workers.skip,
}, async () => {
  const servers = await workers.servers();
  const fexec = new FunctionExecutor(options([servers[0]?.url as string], { token: 'wrong' }));
  try {
    await assert.rejects(fexec.map(addSeven, [1]), (err: unknown) => {
      assert.ok(err instanceof InvocationError, `got ${String(err)}`);
      assert.equal(err.status, 401);
      assert.match(err.message, /code_engine\.token/);
      return true;
    });
  } finally {
    await fexec.close();
  }
});
