import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkCalls, formatCallSpec, parseCallSpec } from '../../src/worker/call-spec.ts';

test('call specs round-trip, with runs written as ranges', () => {
  assert.equal(formatCallSpec([0, 1, 2, 3, 7, 9, 10]), '0-3,7,9-10');
  assert.deepEqual(parseCallSpec('0-3,7,9-10'), [0, 1, 2, 3, 7, 9, 10]);
});

test('chunkCalls splits ids into consecutive chunks, the last one short', () => {
  assert.deepEqual(chunkCalls([0, 1, 2, 3, 4], 2), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(chunkCalls([5, 9], 10), [[5, 9]]);
  assert.deepEqual(chunkCalls([], 3), []);
  assert.deepEqual(chunkCalls([1, 2], 0), [[1], [2]], 'a size below 1 counts as 1');
});
