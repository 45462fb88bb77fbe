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

test('a bad call list is a ConfigError naming the list and the part at fault', async () => {
  const { ConfigError } = await import('../../src/errors.ts');
  const bad = (spec: string, message: string) =>
    assert.throws(
      () => parseCallSpec(spec),
      (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG' && e.keyPath === 'calls' && e.message === message,
    );
  bad('1,a', 'invalid call list "1,a": "a" is not a number or a range like 3-7');
  bad('', 'invalid call list "": "" is not a number or a range like 3-7');
  bad('0-2,9-4', 'invalid call list "0-2,9-4": range "9-4" goes backwards');
});

test('a bad storage configuration is a ConfigError naming where it came from', async () => {
  const { ConfigError } = await import('../../src/errors.ts');
  const { parseStorageConfig } = await import('../../src/worker/storage-config.ts');
  assert.deepEqual(parseStorageConfig('{"driver":"fs","options":{"root":"/tmp/x"}}', 'X'), {
    driver: 'fs',
    options: { root: '/tmp/x' },
  });
  assert.throws(
    () => parseStorageConfig('{driver', '--storage-config'),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.keyPath === '--storage-config' &&
      /^--storage-config is not valid JSON: /.test(e.message),
  );
  for (const text of ['null', '[]', '{"driver":"fs"}', '{"options":{}}', '"fs"']) {
    assert.throws(
      () => parseStorageConfig(text, 'BURST_STORAGE_CONFIG'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.keyPath === 'BURST_STORAGE_CONFIG' &&
        e.message.startsWith('BURST_STORAGE_CONFIG must look like {"driver":"fs","options":{...}}, got '),
      text,
    );
  }
});
