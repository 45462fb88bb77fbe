/**
 * The AWS Lambda worker entry, called in-process as Lambda would: an event of another format version,
 * or no storage configuration anywhere, fails with a typed Burst error naming what is wrong (Lambda
 * records it as the invocation's error), before any storage is touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BurstError, ConfigError } from '../../src/errors.ts';
import { handler, type LambdaContextLike } from '../../src/backends/aws_lambda/worker/entry.ts';
import { LAMBDA_EVENT_VERSION, type LambdaWorkerEvent } from '../../src/backends/aws_lambda/worker/event.ts';

const context: LambdaContextLike = {
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/burst-test',
  logStreamName: '2026/12/04/[$LATEST]abc',
  functionName: 'burst-test',
};

test('an event of another format version is a VERSION_MISMATCH naming both versions', async () => {
  const event = {
    burst: LAMBDA_EVENT_VERSION + 1,
    bucket: 'burst',
    jobKey: 'burst/jobs/e/M000',
    calls: '0',
    attempt: 1,
  } as unknown as LambdaWorkerEvent;
  await assert.rejects(handler(event, context), (e: unknown) => {
    assert.ok(e instanceof BurstError, `got ${String(e)}`);
    assert.equal(e.code, 'VERSION_MISMATCH');
    assert.equal(e.backend, 'aws_lambda');
    assert.match(
      e.message,
      new RegExp(`understands events of version ${LAMBDA_EVENT_VERSION}, got ${LAMBDA_EVENT_VERSION + 1}: redeploy it`),
    );
    return true;
  });
});

test('no storage configuration in the event or BURST_STORAGE_CONFIG is a ConfigError naming the job and the variable', async () => {
  const saved = process.env.BURST_STORAGE_CONFIG;
  delete process.env.BURST_STORAGE_CONFIG;
  try {
    const event = {
      burst: LAMBDA_EVENT_VERSION,
      bucket: 'burst',
      jobKey: 'burst/jobs/e/M001',
      calls: '0',
      attempt: 1,
    } as unknown as LambdaWorkerEvent;
    await assert.rejects(handler(event, context), (e: unknown) => {
      assert.ok(e instanceof ConfigError, `got ${String(e)}`);
      assert.equal(e.keyPath, 'BURST_STORAGE_CONFIG');
      assert.equal(
        e.message,
        'no storage configuration for job burst/jobs/e/M001: the event has none and BURST_STORAGE_CONFIG is not set',
      );
      return true;
    });
  } finally {
    if (saved !== undefined) process.env.BURST_STORAGE_CONFIG = saved;
  }
});

// The attack: an event (not signed, unlike the job) names code for the worker to import through a
// third-party storage driver's module. The code would set a global; it must never run.
test('an event whose storage names a module is refused before anything is imported', async () => {
  const marker = `__burst_pwned_${process.pid}`;
  const event = {
    burst: LAMBDA_EVENT_VERSION,
    bucket: 'burst',
    jobKey: 'burst/jobs/e/M002',
    calls: '0',
    attempt: 1,
    storage: { driver: 'evil', options: {}, module: `data:text/javascript,globalThis.${marker}=1` },
  } as unknown as LambdaWorkerEvent;
  await assert.rejects(handler(event, context), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `got ${String(e)}`);
    assert.equal(e.keyPath, 'storage.module');
    return true;
  });
  assert.equal((globalThis as Record<string, unknown>)[marker], undefined, 'the event chose code that ran');
});
