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
    map: new Map<unknown, unknown>([
      [1, 'one'],
      ['two', { n: 2n }],
    ]),
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
  assert.throws(
    () => assertSerializable(inputs, 'input'),
    (err: unknown) => {
      assert.ok(err instanceof SerializationError);
      assert.equal(err.path, 'input[3].handler');
      assert.match(err.message, /cannot serialize input\[3\]\.handler: a function \(handler\)/);
      return true;
    },
  );
});

test('a list of primitives passes without an encoding pass, and a symbol among them is still named', () => {
  assertSerializable([1, -0, Number.NaN, 'a', true, null, undefined, 10n, 'z'], 'input');
  assert.throws(
    () => assertSerializable([1, 'a', Symbol('s'), 4], 'input'),
    (err: unknown) => err instanceof SerializationError && err.path === 'input[2]' && /symbol/.test(err.message),
  );
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
    assert.throws(
      () => encode({ conn: socket }, 'input[0]'),
      (err: unknown) => err instanceof SerializationError && /input\[0\]\.conn/.test(err.message),
    );
  } finally {
    socket.destroy();
  }
});

test('decode of garbage is a SerializationError, not a crash', () => {
  assert.throws(
    () => decode(new Uint8Array([0xff, 0x0f, 0x6f, 0x22, 0x99]), 'result of call 3'),
    (err: unknown) => err instanceof SerializationError && /result of call 3/.test(err.message),
  );
});

test('thrown errors keep name, message, own properties and stack; non-errors are described', () => {
  class QuotaError extends Error {
    override name = 'QuotaError';
    code = 'E_QUOTA';
    limit = 5;
  }
  const se = serializeThrown(new QuotaError('over quota'));
  const err = toBurstError(se, { callId: 7, jobId: 'M000' });
  assert.ok(err instanceof RemoteError);
  assert.equal(err.remoteName, 'QuotaError');
  assert.deepEqual(err.properties, { name: 'QuotaError', code: 'E_QUOTA', limit: 5 });
  assert.match(err.message, /^QuotaError: over quota in call 7/);
  assert.match(err.remoteStack ?? '', /QuotaError: over quota/);
  assert.equal(err.callId, 7);

  const n = toBurstError(serializeThrown(42), {}) as RemoteError;
  assert.equal(n.thrown, 42);
  assert.match(n.message, /non-Error value: 42/);
  const u = toBurstError(serializeThrown(null), {}) as RemoteError;
  assert.equal(u.thrown, null);
});

test('issue 15: thrown values come back as they were thrown (undefined, bigint, null, numbers, strings, objects; symbols described)', () => {
  const back = (value: unknown): RemoteError =>
    toBurstError(JSON.parse(JSON.stringify(serializeThrown(value))), {}) as RemoteError;
  const u = back(undefined);
  assert.ok('thrown' in u, 'throw undefined keeps a thrown field');
  assert.equal(u.thrown, undefined);
  assert.equal(back(10n).thrown, 10n);
  assert.equal(back(null).thrown, null);
  assert.equal(back(42).thrown, 42);
  assert.ok(Number.isNaN(back(Number.NaN).thrown));
  assert.equal(back('42').thrown, '42', 'a thrown string stays a string even when it looks like JSON');
  assert.equal(back('boom').thrown, 'boom');
  const cyclic: Record<string, unknown> = { code: 'E_LOOP', when: new Date(5) };
  cyclic.self = cyclic;
  const o = back(cyclic).thrown as typeof cyclic;
  assert.equal(o.code, 'E_LOOP');
  assert.equal(o.self, o);
  assert.ok(o.when instanceof Date);
  const s = back(Symbol('reason'));
  assert.equal(s.thrown, 'Symbol(reason)');
  assert.match(s.message, /non-Error value: Symbol\(reason\)/);
  assert.match(back(10n).message, /non-Error value: 10n/);
  // Records written before thrownValue existed still decode their JSON text.
  assert.equal(
    (toBurstError({ kind: 'remote', name: 'NonError', message: 'm', thrown: '{"a":1}' }, {}) as RemoteError).thrown
      ?.constructor,
    Object,
  );
});

test('finding 12: hostile thrown values never make serializeThrown throw; what could be read is kept', () => {
  const boom = (): never => {
    throw new Error('getter trap');
  };
  const hostileError = Object.defineProperty(new TypeError('x'), 'stack', { get: boom });
  Object.defineProperties(hostileError, {
    message: { get: boom },
    name: { get: boom },
    code: { get: boom, enumerable: true },
  });
  const e = toBurstError(serializeThrown(hostileError), {}) as RemoteError;
  assert.ok(e instanceof RemoteError);
  assert.match(e.remoteName, /name could not be read: Error: getter trap/);
  assert.match(e.message, /message could not be read/);
  assert.match(String(e.properties.code), /code could not be read/);

  const badToString = {
    toString: boom,
    get message(): string {
      return boom();
    },
  };
  const t = toBurstError(serializeThrown(badToString), {}) as RemoteError;
  assert.equal(t.remoteName, 'NonError');

  const trapAll = new Proxy(
    {},
    { get: boom, getPrototypeOf: boom, ownKeys: boom, has: boom, getOwnPropertyDescriptor: boom },
  );
  const p = toBurstError(serializeThrown(trapAll), {}) as RemoteError;
  assert.ok(p instanceof RemoteError);
  assert.equal(p.remoteName, 'NonError');

  const errorProxy = new Proxy(new Error('inner'), { get: boom });
  const ep = serializeThrown(errorProxy);
  assert.equal(ep.kind, 'remote');

  const loopError = new Error('loop') as Error & { self?: unknown };
  loopError.self = loopError;
  const l = toBurstError(serializeThrown(loopError), {}) as RemoteError;
  assert.equal(l.message, 'Error: loop');
  assert.equal(typeof l.properties.self, 'string');
});

test('finding 12: a Proxy input inside an array is named input[0], even with throwing traps', () => {
  const plain = new Proxy({ a: 1 }, {});
  assert.throws(
    () => assertSerializable([plain, 2], 'input'),
    (err: unknown) => err instanceof SerializationError && err.path === 'input[0]' && /Proxy/.test(err.message),
  );
  const hostile = new Proxy(
    {},
    {
      ownKeys: () => {
        throw new Error('no keys');
      },
    },
  );
  assert.throws(
    () => assertSerializable([1, hostile], 'input'),
    (err: unknown) => err instanceof SerializationError && err.path === 'input[1]',
  );
  const getter = {
    get x(): number {
      throw new Error('no x');
    },
  };
  assert.throws(
    () => assertSerializable([getter], 'input'),
    (err: unknown) => err instanceof SerializationError && err.path === 'input[0].x' && /no x/.test(err.message),
  );
  assert.throws(
    () => encode({ inner: plain }, 'input[3]'),
    (err: unknown) => err instanceof SerializationError && err.path === 'input[3].inner',
  );
});

test('a worker storage failure comes back as the class that owns its code, code and message intact', async () => {
  const errs = await import('../../src/errors.ts');
  const back = (code: unknown) =>
    toBurstError(
      JSON.parse(
        JSON.stringify({
          kind: 'storage',
          name: 'StorageError',
          message: `m-${String(code)}`,
          properties: { code, bucket: 'bk', key: 'k/1' },
        }),
      ),
      { callId: 2, jobId: 'M000' },
    );
  const cases: Array<[unknown, new (...a: never[]) => unknown, string]> = [
    ['NO_SUCH_BUCKET', errs.NoSuchBucketError, 'NO_SUCH_BUCKET'],
    ['NO_SUCH_KEY', errs.NoSuchKeyError, 'NO_SUCH_KEY'],
    ['JOB_DELETED', errs.JobNotFoundError, 'JOB_DELETED'],
    ['STORAGE_AUTH', errs.StorageAuthError, 'STORAGE_AUTH'],
    ['INVALID_KEY', errs.InvalidKeyError, 'INVALID_KEY'],
    ['STORAGE_UNAVAILABLE', errs.StorageUnavailableError, 'STORAGE_UNAVAILABLE'],
    ['RESULT_STORAGE_UNREACHABLE', errs.StorageError, 'RESULT_STORAGE_UNREACHABLE'],
    ['S3_ERROR', errs.StorageError, 'S3_ERROR'],
    ['SOMETHING_NEWER', errs.StorageError, 'STORAGE'],
    ['TIMEOUT', errs.StorageError, 'STORAGE'], // a code of another class is not a storage code
    [undefined, errs.StorageError, 'STORAGE'],
  ];
  for (const [code, cls, want] of cases) {
    const err = back(code);
    assert.ok(err instanceof cls, `${String(code)} → ${cls.name}, got ${err.name}`);
    assert.ok(err instanceof errs.StorageError);
    assert.equal(err.code, want);
    assert.equal(errs.ERROR_CODE_CLASS[err.code], err.name, 'the owner of the code');
    assert.equal(err.message, `m-${String(code)}`, "the worker's message");
    assert.equal(err.callId, 2);
  }
  assert.equal((back('NO_SUCH_KEY') as InstanceType<typeof errs.NoSuchKeyError>).key, 'k/1');
});
