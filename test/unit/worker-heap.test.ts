import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerHeapMB } from '../../src/worker/handler.ts';

test("without a memory budget the job's heap limit stands", () => {
  assert.equal(workerHeapMB(512, undefined, 4), 512);
  assert.equal(workerHeapMB(undefined, undefined, 4), undefined);
});

test("a serverless function's memory is shared by its worker processes, less headroom", () => {
  assert.equal(workerHeapMB(undefined, 2048, 2), Math.floor((2048 - 150) / 2));
  assert.equal(workerHeapMB(4096, 2048, 1), 2048 - 150, 'never more than the function holds');
  assert.equal(workerHeapMB(256, 2048, 1), 256, 'the job may ask for less');
  assert.equal(workerHeapMB(64, 128, 1), 32, 'a floor keeps V8 able to start');
});
