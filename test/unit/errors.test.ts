import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as errors from '../../src/errors.ts';

test('every error has a code, a cause and typed context', () => {
  const cause = new Error('root');
  const e = new errors.TimeoutError('too slow', { callId: '3', jobId: 'M001', backend: 'localhost', cause, timeoutSeconds: 2 });
  assert.equal(e.code, 'TIMEOUT');
  assert.equal(e.name, 'TimeoutError');
  assert.equal(e.cause, cause);
  assert.equal(e.callId, '3');
  assert.equal(e.jobId, 'M001');
  assert.equal(e.timeoutSeconds, 2);
  assert.ok(e instanceof errors.BurstError);
  assert.ok(e instanceof Error);
  assert.ok(!(e instanceof errors.RemoteError));
});

test('instanceof works across two copies of the module', async () => {
  const copy = (await import(`../../src/errors.ts?copy=${Date.now()}`)) as typeof errors;
  assert.notEqual(copy.NoSuchKeyError, errors.NoSuchKeyError, 'the test really loads a second copy');
  const e = new copy.NoSuchKeyError('b', 'k');
  assert.ok(e instanceof errors.NoSuchKeyError);
  assert.ok(e instanceof errors.StorageError);
  assert.ok(e instanceof errors.BurstError);
  assert.ok(!(e instanceof errors.NoSuchBucketError));
  assert.ok(errors.isBurstError(e));
  assert.ok(!errors.isBurstError(new Error('plain')));
  assert.equal(e.message, 'object "k" does not exist in bucket "b"');
});
