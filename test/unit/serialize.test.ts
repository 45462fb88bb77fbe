import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSerializable, decode, encode, findUnserializable } from '../../src/serialize/index.ts';
import { SerializationError } from '../../src/errors.ts';
import { serializeThrown, toBurstError } from '../../src/serialize/errors.ts';
import { RemoteError } from '../../src/errors.ts';
import { Socket } from 'node:net';

test('structured-clone values survive a round trip', () => {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  const value = {
    map: new Map<unknown, unknown>([[1, 'one'], ['two', { n: 2n }]]),
    set: new Set([1, 'a']),
    date: new Date(1_700_000_000_000),
    re: /ab+c/gi,
    big: 12345678901234567890n,
    typed: new Float64Array([1.5, -2]),
    buf: Buffer.from('héllo'),
    err: new RangeError('out of range'),
    nested: [[1, [2, [3]]]],
    cyclic,
    undef: undefined,
    nan: Number.NaN,
  };
  const back = decode(encode(value)) as typeof value;
  assert.deepEqual(back.map, value.map);
  assert.deepEqual(back.set, value.set);
  assert.equal(back.date.getTime(), value.date.getTime());
  assert.equal(back.re.source, 'ab+c');
  assert.equal(back.re.flags, 'gi');
  assert.equal(back.big, value.big);
  assert.deepEqual([...back.typed], [1.5, -2]);
  assert.ok(Buffer.isBuffer(back.buf), 'a Buffer comes back as a Buffer');
  assert.equal(back.buf.toString(), 'héllo');
  assert.ok(back.err instanceof RangeError);
  assert.equal(back.err.message, 'out of range');
  assert.deepEqual(back.nested, value.nested);
  assert.equal(back.cyclic.self, back.cyclic);
  assert.ok('undef' in back);
  assert.ok(Number.isNaN(back.nan));
});

test('a function inside an input is named by its path', () => {
  const inputs = [1, 2, 3, { handler: () => 1 }];
  assert.throws(() => assertSerializable(inputs, 'input'), (err: unknown) => {
    assert.ok(err instanceof SerializationError);
    assert.equal(err.path, 'input[3].handler');
    assert.match(err.message, /cannot serialize input\[3\]\.handler: a function \(handler\)/);
    return true;
  });
});

test('paths go through Maps, Sets, arrays and odd keys', () => {
  assert.equal(findUnserializable(new Map([['k', [0, Symbol('s')]]]), 'v')?.path, 'v.get("k")[1]');
  assert.equal(findUnserializable({ 'a-b': new Set([() => 0]) }, 'v')?.path, 'v["a-b"].<item 0>');
  assert.equal(findUnserializable({ p: Promise.resolve(1) }, 'v')?.path, 'v.p');
  assert.equal(findUnserializable({ ok: [1, { deep: 'x' }] }, 'v'), undefined);
});

test('a socket cannot be sent and the error says where', () => {
  const socket = new Socket();
  try {
    assert.throws(() => encode({ conn: socket }, 'input[0]'), (err: unknown) => err instanceof SerializationError && /input\[0\]\.conn/.test(err.message));
  } finally {
    socket.destroy();
  }
});

test('decode of garbage is a SerializationError, not a crash', () => {
  assert.throws(() => decode(new Uint8Array([0xff, 0x0f, 0x6f, 0x22, 0x99]), 'result of call 3'), (err: unknown) => err instanceof SerializationError && /result of call 3/.test(err.message));
});

test('thrown errors keep name, message, own properties and stack; non-errors are described', () => {
  class QuotaError extends Error {
    override name = 'QuotaError';
    code = 'E_QUOTA';
    limit = 5;
  }
  const se = serializeThrown(new QuotaError('over quota'));
  const err = toBurstError(se, { callId: '7', jobId: 'M000' });
  assert.ok(err instanceof RemoteError);
  assert.equal(err.remoteName, 'QuotaError');
  assert.deepEqual(err.properties, { name: 'QuotaError', code: 'E_QUOTA', limit: 5 });
  assert.match(err.message, /^QuotaError: over quota in call 7/);
  assert.match(err.remoteStack ?? '', /QuotaError: over quota/);
  assert.equal(err.callId, '7');

  const n = toBurstError(serializeThrown(42), {}) as RemoteError;
  assert.equal(n.thrown, 42);
  assert.match(n.message, /non-Error value: 42/);
  const u = toBurstError(serializeThrown(null), {}) as RemoteError;
  assert.equal(u.thrown, null);
});
