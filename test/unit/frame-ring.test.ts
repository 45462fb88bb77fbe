import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRing, RingReader, RingWriter } from '../../src/worker/frame-ring.ts';

const RING = 1 << 20;

function readAll(reader: RingReader): Buffer {
  const parts: Buffer[] = [];
  while (reader.read((chunk) => parts.push(chunk))) {}
  return Buffer.concat(parts);
}

test('a write takes only the first `length` bytes of its buffer, and none of what follows', () => {
  const ring = createRing();
  const writer = new RingWriter(ring, () => undefined);
  const reader = new RingReader(ring);
  const buf = Buffer.from('frame-bytes|garbage after the frame');
  writer.write(buf, 11);
  assert.equal(readAll(reader).toString(), 'frame-bytes');
  writer.write(Buffer.from('whole'));
  assert.equal(readAll(reader).toString(), 'whole');
});

test('a write that crosses the end of the ring arrives whole, in order', () => {
  const ring = createRing();
  const writer = new RingWriter(ring, () => undefined);
  const reader = new RingReader(ring);
  const filler = Buffer.alloc(RING - 3, 7);
  writer.write(filler);
  assert.equal(readAll(reader).length, RING - 3);
  const frame = Buffer.from('0123456789 and the rest is not sent');
  writer.write(frame, 10); // 3 bytes before the end, 7 after the wrap
  assert.equal(readAll(reader).toString(), '0123456789');
});

test('the pool is woken when it asked to be, once per write', () => {
  const ring = createRing();
  let wakes = 0;
  const writer = new RingWriter(ring, () => wakes++);
  writer.write(Buffer.from('a'));
  writer.write(Buffer.from('b'));
  assert.equal(wakes, 1, 'a new ring wants a wake; after it, the reader must ask again');
  const reader = new RingReader(ring);
  reader.drain(() => undefined);
  writer.write(Buffer.from('c'));
  assert.equal(wakes, 2);
});
