import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.ts';
import {
  defaultServiceName,
  positiveOption,
  serviceName,
  workerEnvironment,
} from '../../src/runtime/service-options.ts';

const rule = { label: 'Cloud Run service', maxLength: 49, backend: 'cloudrun' };

test('a service name is a DNS label within the platform limit, and the default name passes every platform', () => {
  assert.equal(serviceName('burst-a1', rule), 'burst-a1');
  assert.equal(serviceName(undefined, rule), defaultServiceName());
  assert.equal(serviceName('a'.repeat(49), rule), 'a'.repeat(49));
  for (const bad of ['a'.repeat(50), 'Burst', 'burst_a', '1burst', 'burst-', '']) {
    assert.throws(
      () => serviceName(bad, rule),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.keyPath === 'name' &&
        e.message ===
          `a Cloud Run service name must be lowercase letters, digits and "-", start with a letter, not end with "-" and have at most 49 characters, got ${JSON.stringify(bad)}`,
      bad,
    );
  }
});

test('positiveOption names the option at fault', () => {
  assert.equal(positiveOption(3, 'knative.containerConcurrency', 'knative'), 3);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => positiveOption(bad, 'knative.containerConcurrency', 'knative'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.keyPath === 'knative.containerConcurrency' &&
        /must be a positive integer/.test(e.message),
    );
  }
});

test('workerEnvironment secures a deployed worker: token and signing key from secrets, storage and bucket from the client', () => {
  const storage = { driver: 's3', options: { region: 'eu' } };
  assert.deepEqual(
    workerEnvironment({ tokenSecret: 't', signingKeySecret: 's' }, { bucket: 'b', storage }, 'knative'),
    [
      { name: 'BURST_SERVE_TOKEN', secret: 't', key: 'token' },
      { name: 'BURST_SIGNING_KEY', secret: 's', key: 'signing-key' },
      { name: 'BURST_STORAGE_CONFIG', value: JSON.stringify(storage) },
      { name: 'BURST_SERVE_BUCKETS', value: 'b' },
    ],
  );
  assert.deepEqual(
    workerEnvironment({ tokenSecret: 't', allowUnsignedJobs: true, storageSecret: 'st' }, {}, 'knative'),
    [
      { name: 'BURST_SERVE_TOKEN', secret: 't', key: 'token' },
      { name: 'BURST_SERVE_ALLOW_UNSIGNED_JOBS', value: '1' },
      { name: 'BURST_STORAGE_CONFIG', secret: 'st', key: 'storage-config' },
    ],
  );
  const refused = (
    k: Parameters<typeof workerEnvironment>[0],
    ctx: Parameters<typeof workerEnvironment>[1],
    keyPath: string,
    message: RegExp,
  ): void => {
    assert.throws(
      () => workerEnvironment(k, ctx, 'cloudrun'),
      (e: unknown) => e instanceof ConfigError && e.keyPath === keyPath && message.test(e.message),
    );
  };
  refused({ signingKeySecret: 's' }, { storage }, 'cloudrun.tokenSecret', /cloudrun\.tokenSecret must name a secret/);
  refused(
    { tokenSecret: 't' },
    { storage },
    'cloudrun.signingKeySecret',
    /signingKeySecret must name a secret.*or set cloudrun\.allowUnsignedJobs/,
  );
  refused({ tokenSecret: 't', signingKeySecret: 's' }, {}, 'cloudrun.storageSecret', /the workers need their storage/);
  refused(
    { tokenSecret: 't', signingKeySecret: 's', env: { BURST_SIGNING_KEY: 'x' } },
    { storage },
    'cloudrun.env',
    /must not set BURST_SIGNING_KEY.*cloudrun\.signingKeySecret/,
  );
});
