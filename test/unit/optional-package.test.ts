import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/index.ts';
import { importOptional } from '../../src/runtime/optional-package.ts';

test('a missing optional platform SDK is a ConfigError that says what to install and what needs it', async () => {
  const name = 'burst-test-no-such-package';
  await assert.rejects(
    importOptional(name, () => import(name), 'deploying to Nowhere'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /^deploying to Nowhere needs the package burst-test-no-such-package, which is not installed: run "npm install burst-test-no-such-package" in your project$/,
      );
      return true;
    },
  );
});

test('an installed one loads, and other import failures pass through unchanged', async () => {
  const k8s = await importOptional(
    '@kubernetes/client-node',
    () => import('@kubernetes/client-node'),
    'deploying to Knative',
  );
  assert.equal(typeof k8s.KubeConfig, 'function');
  const boom = new SyntaxError('broken module');
  await assert.rejects(
    importOptional('x', () => Promise.reject(boom), 'y'),
    (err: unknown) => err === boom,
  );
});
