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
