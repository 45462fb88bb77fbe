import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.ts';
import { defaultServiceName, positiveOption, serviceName } from '../../src/runtime/service-options.ts';

const rule = { label: 'Cloud Run service', maxLength: 49, backend: 'cloudrun' };

test('a service name is a DNS label within the platform limit, and the default name passes every platform', () => {
  assert.equal(serviceName('burst-a1', rule), 'burst-a1');
  assert.equal(serviceName(undefined, rule), defaultServiceName());
  assert.equal(serviceName('a'.repeat(49), rule), 'a'.repeat(49));
  for (const bad of ['a'.repeat(50), 'Burst', 'burst_a', '1burst', 'burst-', '']) {
    assert.throws(
      () => serviceName(bad, rule),
      (e: unknown) => e instanceof ConfigError && e.keyPath === 'name' && e.message === `a Cloud Run service name must be lowercase letters, digits and "-", start with a letter, not end with "-" and have at most 49 characters, got ${JSON.stringify(bad)}`,
      bad,
    );
  }
});

test('positiveOption names the option at fault', () => {
  assert.equal(positiveOption(3, 'knative.containerConcurrency', 'knative'), 3);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => positiveOption(bad, 'knative.containerConcurrency', 'knative'), (e: unknown) => e instanceof ConfigError && e.keyPath === 'knative.containerConcurrency' && /must be a positive integer/.test(e.message));
  }
});
