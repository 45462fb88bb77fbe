/**
 * The frames a worker writes to its pool (src/worker/frames.ts), read back through FrameReader as a
 * pipe or a ring delivers them: whole, split at every byte, or a byte at a time. Every frame must
 * arrive once, in order, with its exact fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameDecodeError,
  FrameReader,
  flatJson,
  okFrame,
  releasedFrame,
  resultsFrame,
  startFrame,
  type Frame,
  type FrameSink,
} from '../../src/worker/frames.ts';
import { plainCallRecord, type CallRecord } from '../../src/worker/protocol.ts';

const worker = { workerStart: 1, hostname: 'h', pid: 2 };
const values: unknown[] = [undefined, null, true, false, -0, Number.NaN, 1e300, 'é ✓', '', { a: [1] }, 12n];
const whole: CallRecord = {
  callId: 40,
  ok: true,
  value: new Map([[1, 2]]),
  attempt: 1,
  logs: 'printed',
  stats: { ...plainCallRecord(worker, 40, 1, 5, 6, 0, 0).stats, cold: true },
};

/** The frames of one batch, and what a sink should see for them. */
function sample(): { bytes: Buffer; want: unknown[] } {
  const parts: Buffer[] = [];
  const want: unknown[] = [];
  values.forEach((value, i) => {
    parts.push(startFrame(7, i));
    want.push(['start', 7, i]);
    parts.push(okFrame(7, plainCallRecord(worker, 100 + i, i + 1, 1000.5 + i, 1001 + i, i * 3, value)));
    want.push(['ok', 7, 100 + i, i + 1, 1000.5 + i, 1001 + i, i * 3, value]);
  });
  parts.push(resultsFrame(8, [whole]));
  want.push(['frame', 8, whole]);
  parts.push(releasedFrame([{ batch: 8, from: 3 }]));
  want.push(['released', [{ batch: 8, from: 3 }]]);
  return { bytes: Buffer.concat(parts), want };
}

function collector(): { sink: FrameSink; got: unknown[] } {
  const got: unknown[] = [];
  return {
    got,
    sink: {
      start: (batch, index) => got.push(['start', batch, index]),
      ok: (batch, callId, attempt, fnStart, fnEnd, bytesOut, value) =>
        got.push(['ok', batch, callId, attempt, fnStart, fnEnd, bytesOut, value]),
      frame: (f: Frame) => got.push(f.type === 3 ? ['released', f.ranges] : ['frame', f.batch, f.records[0]]),
    },
  };
}

function assertSame(got: unknown[], want: unknown[], how: string): void {
  assert.equal(got.length, want.length, `${how}: every frame once`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as unknown[];
    const w = want[i] as unknown[];
    assert.deepEqual(g, w, `${how}: frame ${i}`);
    // -0 and NaN: deepEqual already tells NaN apart; Object.is tells -0 from 0.
    if (w[0] === 'ok' && typeof w[7] === 'number')
      assert.ok(Object.is(g[7], w[7]), `${how}: value of frame ${i} is exactly ${String(w[7])}`);
  }
}

test('frames read back whole, in order, with every field and value exact', () => {
  const { bytes, want } = sample();
  const { sink, got } = collector();
  new FrameReader().push(bytes, sink);
  assertSame(got, want, 'one chunk');
});

test('a frame split across chunks waits for its rest: at every split point, and a byte at a time', () => {
  const { bytes, want } = sample();
  for (let cut = 1; cut < bytes.length; cut++) {
    const { sink, got } = collector();
    const reader = new FrameReader();
    reader.push(bytes.subarray(0, cut), sink);
    reader.push(bytes.subarray(cut), sink);
    assertSame(got, want, `split at byte ${cut}`);
  }
  const { sink, got } = collector();
  const reader = new FrameReader();
  for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1), sink);
  assertSame(got, want, 'a byte at a time');
});

test('a frame that cannot be decoded throws a FrameDecodeError naming it, after the frames before it', () => {
  const bad = okFrame(7, plainCallRecord(worker, 1, 1, 2, 3, 0, { a: 1 }));
  bad.fill(0xff, 38); // the value's V8 bytes, garbled
  const { sink, got } = collector();
  assert.throws(
    () => new FrameReader().push(Buffer.concat([startFrame(7, 0), bad, startFrame(7, 1)]), sink),
    (err: unknown) => err instanceof FrameDecodeError && /could not decode a result/.test(err.message),
  );
  assert.deepEqual(got, [['start', 7, 0]]);
});

test('a flat plain object travels as JSON only when JSON gives it back exactly; anything else in V8 format, also exact', () => {
  class Point {
    x = 1;
  }
  const asJson: Array<Record<string, unknown>> = [
    { mean: 1.5, above: 3, tag: 'é ✓ \ud800', ok: true, none: null, big: 1e300, tiny: 5e-324 },
    { b: 1, 2: 'x', a: 3 }, // integer keys first, then insertion order: the same after JSON.parse
    JSON.parse('{"__proto__": 1}') as Record<string, unknown>, // an own key named __proto__
    {},
  ];
  const notJson: unknown[] = [
    { a: undefined },
    { z: -0 },
    { n: Number.NaN },
    { i: Number.POSITIVE_INFINITY },
    { a: { b: 1 } },
    { a: [1] },
    { d: new Date(0) },
    { b: 1n },
    Object.assign(Object.create(null) as object, { a: 1 }),
    new Point(),
    [1, 2],
    Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])),
  ];
  for (const v of asJson) assert.equal(typeof flatJson(v), 'string', JSON.stringify(v));
  notJson.forEach((v, i) => assert.equal(flatJson(v), undefined, `not JSON: ${i}`));
  const { sink, got } = collector();
  const all = [...asJson, ...notJson];
  new FrameReader().push(Buffer.concat(all.map((v, i) => okFrame(1, plainCallRecord(worker, i, 1, 0, 0, 0, v)))), sink);
  all.forEach((v, i) => {
    const back = (got[i] as unknown[])[7];
    // V8's format, as structured clone, gives back a class instance or a null-prototype object as a plain object.
    const plain = v instanceof Point || (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === null);
    assert.deepEqual(back, plain ? { ...(v as object) } : v, `value ${i}`);
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      assert.deepEqual(Object.keys(back as object), Object.keys(v), `value ${i}: keys in the same order`);
  });
  assert.ok(Object.is(((got[5] as unknown[])[7] as { z: number }).z, -0), '-0 stays -0');
  assert.equal(Object.hasOwn((got[4] as unknown[])[7] as object, 'a'), true, 'an undefined property is kept');
});
