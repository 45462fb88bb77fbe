/**
 * The records of the data plane (src/job/): manifest, status, claim and lease round-trip through
 * their encoders, and a malformed record fails with a MalformedRecordError naming the key and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BurstError, MalformedRecordError } from '../../src/errors.ts';
import { jobKey, keys } from '../../src/job/layout.ts';
import {
  decodeCallCount,
  decodeManifest,
  encodeManifest,
  MANIFEST_FORMAT,
  type JobManifest,
} from '../../src/job/manifest.ts';
import {
  decodeStatus,
  decodeStatusList,
  encodeStatus,
  StatusColumnsBuilder,
  toBatchedStatus,
  toCallRecord,
} from '../../src/job/status.ts';
import { decodeClaim, encodeClaim } from '../../src/job/claims.ts';
import { decodeLease, encodeLease } from '../../src/job/lease.ts';
import { plainCallRecord, type CallRecord } from '../../src/worker/protocol.ts';
import { VERSION } from '../../src/version.ts';

const job = jobKey('E1', 'M000');
const manifestKey = keys.manifest(job);
const manifest: JobManifest = {
  format: MANIFEST_FORMAT,
  burstVersion: VERSION,
  executorId: 'E1',
  jobId: 'M000',
  callCount: 2,
  functionHash: 'a'.repeat(64),
  functionName: 'f (t.ts:1:1)',
  ranges: [0, 3, 3, 4],
  env: { A: '1' },
  timeoutSeconds: 30,
  createdAt: 1,
  submittedAt: 1,
  channel: 'storage',
};

/** Asserts `fn` throws a MalformedRecordError whose key is `key` and whose message names `words`. */
function assertMalformed(fn: () => unknown, key: string, ...words: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MalformedRecordError, `a MalformedRecordError, got ${String(err)}`);
    assert.equal(err.code, 'MALFORMED_RECORD');
    assert.equal(err.key, key);
    for (const w of [key, ...words]) assert.ok(err.message.includes(w), `"${err.message}" names ${w}`);
    return true;
  });
}

test('a manifest round-trips, as stored (every field, so its signature still verifies)', () => {
  const withExtra = { ...manifest, signature: 'ab'.repeat(32), future: { x: 1 } };
  assert.deepEqual(decodeManifest(encodeManifest(manifest), manifestKey), manifest);
  assert.deepEqual(
    decodeManifest(Buffer.from(JSON.stringify(withExtra)), { bucket: 'b', key: manifestKey }),
    withExtra,
  );
  assert.equal(decodeCallCount(encodeManifest(manifest), manifestKey), 2);
});

test('a malformed manifest names its key and the field at fault', () => {
  assertMalformed(() => decodeManifest('{"format":1', manifestKey), manifestKey, 'not JSON');
  assertMalformed(() => decodeManifest('[1,2]', manifestKey), manifestKey, 'a JSON object', 'an array');
  for (const [name, value] of [
    ['callCount', -1],
    ['callCount', '2'],
    ['ranges', [0, 3, 3]],
    ['ranges', [0, -3]],
    ['env', { A: 1 }],
    ['functionHash', undefined],
    ['jobId', 7],
    ['timeoutSeconds', 'x'],
    ['channel', 'pigeon'],
    ['args', 5],
  ] as const) {
    assertMalformed(
      () => decodeManifest(JSON.stringify({ ...manifest, [name]: value }), manifestKey),
      manifestKey,
      `"${name}"`,
    );
  }
  assertMalformed(() => decodeCallCount('{"format":1}', manifestKey), manifestKey, '"callCount"');
  assert.throws(
    () => decodeManifest(JSON.stringify({ ...manifest, format: 2 }), manifestKey),
    (err: unknown) => err instanceof BurstError && err.code === 'VERSION_MISMATCH' && err.message.includes('format 2'),
  );
});

const stats = { workerStart: 1, fnStart: 2, fnEnd: 3, cold: true, bytesIn: 4, bytesOut: 5, hostname: 'h', pid: 9 };

test('a status record round-trips: numeric call id, attempt, inline result as base64, write time', () => {
  const statusKey = keys.status(job, 1_000_000, 2);
  const record: CallRecord = {
    callId: 1_000_000,
    ok: true,
    attempt: 2,
    output: new Uint8Array([1, 2, 255]),
    value: 'dropped',
    stats,
    logs: 'hi',
  };
  const text = encodeStatus(record, 1234);
  const stored = decodeStatus(text, statusKey);
  assert.equal(stored.callId, 1_000_000);
  assert.equal(typeof stored.callId, 'number');
  assert.equal(stored.output, Buffer.from([1, 2, 255]).toString('base64'));
  assert.equal(stored.storedAt, 1234);
  assert.equal('value' in stored, false);
  const back = toCallRecord(stored);
  assert.deepEqual([...(back.output ?? [])], [1, 2, 255]);
  assert.deepEqual(
    { ...back, output: undefined },
    { callId: 1_000_000, ok: true, attempt: 2, stats, logs: 'hi', storedAt: 1234, output: undefined },
  );
  // An older record without an attempt takes its key's.
  const { attempt: _a, ...older } = JSON.parse(text) as Record<string, unknown>;
  assert.equal(decodeStatus(JSON.stringify(older), statusKey, 2).attempt, 2);
  assert.equal(decodeStatus(JSON.stringify(older), statusKey).attempt, 1);
});

test('a malformed status record names its key and the field at fault', () => {
  const key = keys.status(job, 7, 1);
  const good = { callId: 7, ok: false, attempt: 1, stats, error: { name: 'E', message: 'm' } };
  assertMalformed(() => decodeStatus('nope', key), key, 'not JSON');
  assertMalformed(() => decodeStatus('null', key), key, 'a JSON object');
  for (const [name, value] of [
    ['callId', '7'],
    ['callId', -1],
    ['callId', 1.5],
    ['ok', 'yes'],
    ['attempt', 0],
    ['stats', null],
    ['error', 'boom'],
    ['logs', 3],
    ['output', [1]],
    ['storedAt', 'now'],
  ] as const) {
    assertMalformed(() => decodeStatus(JSON.stringify({ ...good, [name]: value }), key), key, `"${name}"`);
  }
  assertMalformed(() => decodeStatusList('{', key), key, 'not JSON');
});

test('status batches carry records without results, in columns or whole, and decode to a list', () => {
  const record: CallRecord = { callId: 3, ok: true, attempt: 1, output: new Uint8Array([1]), value: 42, stats };
  const batched = toBatchedStatus(record);
  assert.equal('output' in batched || 'value' in batched, false);
  const key = keys.statusBatch(job, 0, 'ab');
  // An older batch: a JSON array of records.
  assert.deepEqual(decodeStatusList(JSON.stringify([batched, batched]), key), [batched, batched]);
  assert.deepEqual(decodeStatusList(encodeStatus(record), key).length, 1);
  // Plain successes go in columns (two workers, one a thread); the others whole, redacted.
  const plain = (callId: number, extra: Partial<CallRecord['stats']> = {}) => ({
    callId,
    ok: true,
    value: callId,
    attempt: 1,
    storedAt: 1000 + callId,
    stats: { ...stats, fnStart: callId, fnEnd: callId + 1, cold: callId === 0, ...extra },
  });
  const failed = {
    callId: 9,
    ok: false,
    attempt: 2,
    storedAt: 2000,
    error: { kind: 'remote' as const, name: 'Error', message: 'GET https://user:hunter2secret@example.com failed' },
    stats,
  };
  const withLogs = { ...plain(7), logs: 'hello' };
  const located = plain(8, { location: { platform: 'x', text: 'there' } });
  const retried = { ...plain(4, { bytesIn: 10, bytesOut: 20 }), attempt: 3 };
  const fractional = plain(5, { fnStart: 4.5 }); // not whole milliseconds: kept whole, exactly
  const b = new StatusColumnsBuilder();
  for (const r of [plain(0), plain(1, { threadId: 3 }), plain(2), failed, withLogs, located, retried, fractional])
    b.add(r);
  assert.equal(b.size, 8);
  const text = b.encode();
  assert.equal(b.size, 0);
  assert.equal(text.includes('hunter2secret'), false, 'secrets in an error are redacted');
  const list = decodeStatusList(text, key) as Array<CallRecord & { storedAt: number }>;
  const byId = new Map(list.map((r) => [r.callId, r]));
  assert.deepEqual(
    [...byId.keys()].sort((x, y) => x - y),
    [0, 1, 2, 4, 5, 7, 8, 9],
  );
  for (const id of [0, 1, 2]) {
    const { value: _v, ...want } = plain(id, id === 1 ? { threadId: 3 } : {});
    assert.deepEqual(byId.get(id), want);
  }
  for (const r of [retried, fractional]) {
    const { value: _v, ...want } = r;
    assert.deepEqual(byId.get(r.callId), want);
  }
  assert.equal(byId.get(7)?.logs, 'hello');
  assert.equal(byId.get(8)?.stats.location?.text, 'there');
  assert.equal(byId.get(9)?.attempt, 2);
  assert.equal(byId.get(9)?.ok, false);
  assert.equal('value' in (byId.get(8) ?? {}), false);
});

test('a plain success added from its fields (the IPC fast path) decodes as the same record added whole', () => {
  const key = keys.statusBatch(job, 1, 'cd');
  const thread = { workerStart: 100, hostname: 'h', pid: 9, threadId: 2 };
  const proc = { workerStart: 50, hostname: 'g', pid: 8 };
  const rows: Array<[number, number, typeof thread | typeof proc, number, number, number, number]> = [
    [10, 1, thread, 200, 203, 0, 210],
    [11, 2, proc, 204, 204, 77, 211], // a retry that wrote bytes
    [13, 1, thread, 205.25, 206, 0, 212], // not whole milliseconds: must go whole, exactly
    [12, 70_000, proc, 207, 209, 0, 213], // out of order, a large attempt
  ];
  const fast = new StatusColumnsBuilder();
  const whole = new StatusColumnsBuilder();
  for (const [callId, attempt, worker, fnStart, fnEnd, bytesOut, storedAt] of rows) {
    fast.addPlain(callId, attempt, worker, fnStart, fnEnd, bytesOut, storedAt);
    whole.add({ ...plainCallRecord(worker, callId, attempt, fnStart, fnEnd, bytesOut, 'v'), storedAt });
  }
  assert.equal(fast.size, 4);
  const got = decodeStatusList(fast.encode(), key) as Array<CallRecord & { storedAt: number }>;
  const want = decodeStatusList(whole.encode(), key) as Array<CallRecord & { storedAt: number }>;
  const byId = (list: typeof got) => new Map(list.map((r) => [r.callId, r]));
  assert.deepEqual(byId(got), byId(want));
  assert.deepEqual(byId(got).get(11), {
    callId: 11,
    ok: true,
    attempt: 2,
    storedAt: 211,
    stats: { workerStart: 50, fnStart: 204, fnEnd: 204, cold: false, bytesIn: 0, bytesOut: 77, hostname: 'g', pid: 8 },
  });
  assert.equal(byId(got).get(13)?.stats.fnStart, 205.25);
  assert.equal(byId(got).get(10)?.stats.threadId, 2);
  assert.equal(byId(got).get(12)?.attempt, 70_000);
});

test('claims and leases round-trip; malformed ones name their key', () => {
  const claimKey = keys.claim(job, 1, 1_000_000, 'ff');
  const ids = [1_000_000, 1_000_001, 1_000_002, 1_000_007];
  assert.deepEqual(decodeClaim(Buffer.from(encodeClaim(ids)), claimKey), ids);
  assertMalformed(() => decodeClaim('1-x', claimKey), claimKey, 'claim');
  const leaseKey = keys.lease('E1');
  const lease = { holder: 'host:1', renewedAt: 10, expiresAt: 40 };
  assert.deepEqual(decodeLease(encodeLease(lease), leaseKey), lease);
  assertMalformed(() => decodeLease('{"holder":"h","renewedAt":1}', leaseKey), leaseKey, '"expiresAt"');
  assertMalformed(() => decodeLease('"x"', leaseKey), leaseKey, 'client lease');
});
