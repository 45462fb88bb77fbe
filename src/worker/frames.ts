/**
 * The side pipe (fd 4) from a worker process to its pool. The child writes every frame synchronously,
 * so what it wrote before dying is still read by the pool afterwards, in order:
 *
 * - `START batch index`: the call is about to run;
 * - `RESULTS batch records`: records of calls that finished (written before the next `START`, so a call
 *   whose result the pool never got never finished);
 * - `RESULT_OK batch call…`: one plain success, in fixed fields (see {@link FRAME_RESULT_OK});
 * - `RELEASED (batch from)*`: the child gave those calls back unstarted; it will never run them.
 *
 * A frame is `type (u8) | payload length (u32 LE) | payload`. Kept free of client-side imports.
 */
import { DefaultSerializer, deserialize } from 'node:v8';
import { onlyPlainStats, type CallRecord } from './protocol.js';

export const FRAME_START = 1;
export const FRAME_RESULTS = 2;
export const FRAME_RELEASED = 3;
/** RESULTS whose records are all JSON-safe: JSON is several times cheaper to decode than V8's format. */
export const FRAME_RESULTS_JSON = 4;
/**
 * One plain success (no logs, not cold, nothing read, no extra stats) in a few fixed fields: what
 * every record of the worker shares (host, pid, thread, start) the pool takes from its first record,
 * which is always sent whole. Most calls of a large map travel this way.
 */
export const FRAME_RESULT_OK = 5;

/** A plain success as {@link FRAME_RESULT_OK} carries it. */
export interface PlainResult {
  callId: number;
  attempt: number;
  fnStart: number;
  fnEnd: number;
  bytesOut: number;
  value: unknown;
}

/** One decoded frame. */
export type Frame =
  | { type: typeof FRAME_START; batch: number; index: number }
  | { type: typeof FRAME_RESULTS | typeof FRAME_RESULTS_JSON; batch: number; records: CallRecord[] }
  | { type: typeof FRAME_RESULT_OK; batch: number; result: PlainResult }
  | { type: typeof FRAME_RELEASED; ranges: Array<{ batch: number; from: number }> };

/** How a plain result's value is written: the common kinds without any encoder, the rest in V8's format. */
const VALUE_UNDEFINED = 0;
const VALUE_NULL = 1;
const VALUE_TRUE = 2;
const VALUE_FALSE = 3;
const VALUE_NUMBER = 4;
const VALUE_STRING = 5;
const VALUE_V8 = 6;
const OK_HEAD = 38;

/** True when {@link okFrame} can carry the record. */
export function isPlainSuccess(record: CallRecord): boolean {
  const s = record.stats;
  return (
    record.ok &&
    record.logs === undefined &&
    record.output === undefined &&
    record.outputStored === undefined &&
    !s.cold &&
    s.bytesIn === 0 &&
    onlyPlainStats(s)
  );
}

/** A {@link FRAME_RESULT_OK} frame. Throws when the value cannot be serialized. */
export function okFrame(batch: number, record: CallRecord): Buffer {
  const v = record.value;
  let kind: number;
  let body: Buffer | undefined;
  if (v === undefined) kind = VALUE_UNDEFINED;
  else if (v === null) kind = VALUE_NULL;
  else if (v === true) kind = VALUE_TRUE;
  else if (v === false) kind = VALUE_FALSE;
  else if (typeof v === 'number') kind = VALUE_NUMBER;
  else if (typeof v === 'string') {
    kind = VALUE_STRING;
    body = Buffer.from(v, 'utf8');
  } else {
    kind = VALUE_V8;
    body = v8Body(v);
  }
  const size = OK_HEAD + (kind === VALUE_NUMBER ? 8 : (body?.length ?? 0));
  const b = Buffer.allocUnsafe(size);
  const s = record.stats;
  b[0] = FRAME_RESULT_OK;
  b.writeUInt32LE(size - 5, 1);
  b.writeUInt32LE(batch >>> 0, 5);
  b.writeUInt32LE(record.callId >>> 0, 9);
  b.writeUInt32LE(record.attempt >>> 0, 13);
  b.writeDoubleLE(s.fnStart, 17);
  b.writeDoubleLE(s.fnEnd, 25);
  b.writeUInt32LE(s.bytesOut >>> 0, 33);
  b[37] = kind;
  if (kind === VALUE_NUMBER) b.writeDoubleLE(v as number, OK_HEAD);
  else if (body) body.copy(b, OK_HEAD);
  return b;
}

function okValue(b: Buffer): unknown {
  switch (b[37]) {
    case VALUE_UNDEFINED:
      return undefined;
    case VALUE_NULL:
      return null;
    case VALUE_TRUE:
      return true;
    case VALUE_FALSE:
      return false;
    case VALUE_NUMBER:
      return b.readDoubleLE(OK_HEAD);
    case VALUE_STRING:
      return b.toString('utf8', OK_HEAD);
    default:
      return deserialize(b.subarray(OK_HEAD));
  }
}

export function startFrame(batch: number, index: number): Buffer {
  const b = Buffer.allocUnsafe(13);
  b.writeUInt8(FRAME_START, 0);
  b.writeUInt32LE(8, 1);
  b.writeUInt32LE(batch >>> 0, 5);
  b.writeUInt32LE(index >>> 0, 9);
  return b;
}

/** Throws when a record cannot be serialized (the caller replaces it with a serialization error). */
export function resultsFrame(batch: number, records: CallRecord[]): Buffer {
  const json = records.every(jsonSafe) ? jsonBody(records) : undefined;
  const body = json ?? v8Body(records);
  const b = Buffer.allocUnsafe(9 + body.length);
  b.writeUInt8(json ? FRAME_RESULTS_JSON : FRAME_RESULTS, 0);
  b.writeUInt32LE(4 + body.length, 1);
  b.writeUInt32LE(batch >>> 0, 5);
  body.copy(b, 9);
  return b;
}

/** One serializer, reused: creating one per record costs more than the record. */
let serializer = new DefaultSerializer();

function v8Body(value: unknown): Buffer {
  try {
    serializer.writeHeader();
    serializer.writeValue(value);
    return serializer.releaseBuffer();
  } catch (err) {
    serializer = new DefaultSerializer(); // its state is unknown after a failure
    throw err;
  }
}

/** A record whose value survives JSON unchanged (the common small result). */
function jsonSafe(record: CallRecord): boolean {
  if (record.output !== undefined) return false;
  const v = record.value;
  if (v === undefined || v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  return typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0);
}

function jsonBody(records: CallRecord[]): Buffer | undefined {
  try {
    return Buffer.from(JSON.stringify(records));
  } catch {
    return undefined; // e.g. a BigInt among an error's properties: V8's format takes it
  }
}

export function releasedFrame(ranges: ReadonlyArray<{ batch: number; from: number }>): Buffer {
  const b = Buffer.allocUnsafe(5 + ranges.length * 8);
  b.writeUInt8(FRAME_RELEASED, 0);
  b.writeUInt32LE(ranges.length * 8, 1);
  ranges.forEach((r, i) => {
    b.writeUInt32LE(r.batch >>> 0, 5 + i * 8);
    b.writeUInt32LE(r.from >>> 0, 9 + i * 8);
  });
  return b;
}

/** Reassembles frames from pipe chunks without copying large payloads more than once. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private length = 0;

  /** Adds a chunk; returns the frames it completed. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.length < 5) break;
      const head = this.peek(5);
      const size = head.readUInt32LE(1);
      if (this.length < 5 + size) break;
      const frame = this.take(5 + size);
      out.push(decodeFrame(frame));
    }
    return out;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] as Buffer;
  }

  private take(n: number): Buffer {
    const all = this.peek(n);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks[0] = rest;
    if (rest.length === 0) this.chunks.shift();
    this.length -= n;
    return frame;
  }
}

function decodeFrame(b: Buffer): Frame {
  const type = b.readUInt8(0);
  if (type === FRAME_START) return { type, batch: b.readUInt32LE(5), index: b.readUInt32LE(9) };
  if (type === FRAME_RESULT_OK)
    return {
      type,
      batch: b.readUInt32LE(5),
      result: {
        callId: b.readUInt32LE(9),
        attempt: b.readUInt32LE(13),
        fnStart: b.readDoubleLE(17),
        fnEnd: b.readDoubleLE(25),
        bytesOut: b.readUInt32LE(33),
        value: okValue(b),
      },
    };
  if (type === FRAME_RESULTS)
    return { type, batch: b.readUInt32LE(5), records: deserialize(b.subarray(9)) as CallRecord[] };
  if (type === FRAME_RESULTS_JSON)
    return { type, batch: b.readUInt32LE(5), records: JSON.parse(b.toString('utf8', 9)) as CallRecord[] };
  const ranges: Array<{ batch: number; from: number }> = [];
  for (let o = 5; o + 8 <= b.length; o += 8) ranges.push({ batch: b.readUInt32LE(o), from: b.readUInt32LE(o + 4) });
  return { type: FRAME_RELEASED, ranges };
}
