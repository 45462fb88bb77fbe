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
import { deserialize, serialize } from 'node:v8';
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

/** A decoded frame other than a start marker or a plain success (see {@link FrameSink}). */
export type Frame =
  | { type: typeof FRAME_RESULTS | typeof FRAME_RESULTS_JSON; batch: number; records: CallRecord[] }
  | { type: typeof FRAME_RELEASED; ranges: Array<{ batch: number; from: number }> };

/** How a plain result's value is written: the common kinds without any encoder, the rest in V8's format. */
const VALUE_UNDEFINED = 0;
const VALUE_NULL = 1;
const VALUE_TRUE = 2;
const VALUE_FALSE = 3;
const VALUE_NUMBER = 4;
const VALUE_STRING = 5;
const VALUE_V8 = 6;
/** A flat plain object that JSON carries exactly (see {@link flatJson}): cheaper both ways than V8's format. */
const VALUE_JSON = 7;
const OK_HEAD = 38;
/** The most properties a {@link VALUE_JSON} object may have. */
const FLAT_JSON_KEYS = 64;

/**
 * True when {@link okFrame} can carry the record.
 * @param plainStats whether the stats hold only the plain fields; a worker that made them itself
 *   knows, and spares a look at every key of every call's stats
 */
export function isPlainSuccess(record: CallRecord, plainStats?: boolean): boolean {
  const s = record.stats;
  return (
    record.ok &&
    record.logs === undefined &&
    record.output === undefined &&
    record.outputStored === undefined &&
    !s.cold &&
    s.bytesIn === 0 &&
    (plainStats ?? onlyPlainStats(s))
  );
}

/**
 * Frames waiting for the worker's next write, in one buffer reused from write to write: the two
 * frames of every call (its result, the next call's start) cost no allocation of their own.
 */
export class Outbox {
  private buf: Buffer;
  /** The buffer's fixed fields, written through a DataView (cheaper than Buffer's checked writes). */
  view: DataView;
  /** Bytes waiting. */
  length = 0;

  constructor(private readonly size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = viewOf(this.buf);
  }

  /** Makes room for `n` more bytes; returns the buffer to write them into at `length`. */
  room(n: number): Buffer {
    // Grown for one large result: let it go once written, so a worker does not keep it for life.
    if (this.length === 0 && this.buf.length > this.size && n <= this.size)
      this.setBuffer(Buffer.allocUnsafe(this.size));
    if (this.length + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.length + n));
      this.buf.copy(next, 0, 0, this.length);
      this.setBuffer(next);
    }
    return this.buf;
  }

  private setBuffer(buf: Buffer): void {
    this.buf = buf;
    this.view = viewOf(buf);
  }

  push(bytes: Uint8Array): void {
    this.room(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
  }

  /** What is waiting, emptied: valid until the next push (write it at once). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.length);
    this.length = 0;
    return out;
  }

  /** The buffer holding what is waiting (its first `length` bytes); {@link clear} once written. */
  get bytes(): Buffer {
    return this.buf;
  }

  clear(): void {
    this.length = 0;
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Adds a {@link FRAME_RESULT_OK} frame to `out`. Throws (adding nothing) when the value cannot be serialized. */
export function pushOkFrame(out: Outbox, batch: number, record: CallRecord): void {
  const s = record.stats;
  pushOkFields(out, batch, record.callId, record.attempt, s.fnStart, s.fnEnd, s.bytesOut, record.value);
}

/** {@link pushOkFrame} from the record's fields, for a worker that made no record. */
export function pushOkFields(
  out: Outbox,
  batch: number,
  callId: number,
  attempt: number,
  fnStart: number,
  fnEnd: number,
  bytesOut: number,
  v: unknown,
): void {
  let kind: number;
  let size = OK_HEAD;
  let body: Buffer | undefined;
  if (v === undefined) kind = VALUE_UNDEFINED;
  else if (v === null) kind = VALUE_NULL;
  else if (v === true) kind = VALUE_TRUE;
  else if (v === false) kind = VALUE_FALSE;
  else if (typeof v === 'number') {
    kind = VALUE_NUMBER;
    size += 8;
  } else if (typeof v === 'string') {
    kind = VALUE_STRING;
    size += Buffer.byteLength(v, 'utf8');
  } else {
    const json = flatJson(v);
    if (json !== undefined) {
      kind = VALUE_JSON;
      body = Buffer.from(json, 'utf8');
    } else {
      kind = VALUE_V8;
      body = v8Body(v);
    }
    size += body.length;
  }
  const b = out.room(size);
  const dv = out.view;
  const at = out.length;
  b[at] = FRAME_RESULT_OK;
  dv.setUint32(at + 1, size - 5, true);
  dv.setUint32(at + 5, batch >>> 0, true);
  dv.setUint32(at + 9, callId >>> 0, true);
  dv.setUint32(at + 13, attempt >>> 0, true);
  dv.setFloat64(at + 17, fnStart, true);
  dv.setFloat64(at + 25, fnEnd, true);
  dv.setUint32(at + 33, bytesOut >>> 0, true);
  b[at + 37] = kind;
  if (kind === VALUE_NUMBER) dv.setFloat64(at + OK_HEAD, v as number, true);
  else if (kind === VALUE_STRING) b.write(v as string, at + OK_HEAD, 'utf8');
  else if (body) body.copy(b, at + OK_HEAD);
  out.length += size;
}

/** Adds a {@link FRAME_START} frame to `out`. */
export function pushStartFrame(out: Outbox, batch: number, index: number): void {
  const b = out.room(13);
  const dv = out.view;
  const at = out.length;
  b[at] = FRAME_START;
  dv.setUint32(at + 1, 8, true);
  dv.setUint32(at + 5, batch >>> 0, true);
  dv.setUint32(at + 9, index >>> 0, true);
  out.length += 13;
}

/** A {@link FRAME_RESULT_OK} frame on its own. */
export function okFrame(batch: number, record: CallRecord): Buffer {
  const out = new Outbox(64);
  pushOkFrame(out, batch, record);
  return Buffer.from(out.take());
}

function okValue(b: Buffer, dv: DataView, at: number, end: number): unknown {
  const body = at + OK_HEAD;
  switch (b[at + 37]) {
    case VALUE_UNDEFINED:
      return undefined;
    case VALUE_NULL:
      return null;
    case VALUE_TRUE:
      return true;
    case VALUE_FALSE:
      return false;
    case VALUE_NUMBER:
      return dv.getFloat64(body, true);
    case VALUE_STRING:
      return b.toString('utf8', body, end);
    case VALUE_JSON:
      try {
        return JSON.parse(b.toString('utf8', body, end));
      } catch (err) {
        throw new FrameDecodeError('a result', err);
      }
    default:
      try {
        return deserialize(b.subarray(body, end));
      } catch (err) {
        throw new FrameDecodeError('a result', err);
      }
  }
}

/**
 * internal: a frame whose payload could not be decoded. It never reaches a user: the pool stops that
 * worker, and the call it ran fails as a crash whose report carries this message.
 */
export class FrameDecodeError extends Error {
  constructor(what: string, cause: unknown) {
    super(`the pool could not decode ${what} from this worker: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
    this.name = 'FrameDecodeError';
  }
}

export function startFrame(batch: number, index: number): Buffer {
  const out = new Outbox(13);
  pushStartFrame(out, batch, index);
  return Buffer.from(out.take());
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

/**
 * A fresh serializer for every value: a serializer remembers each object it wrote and writes it
 * again as a back-reference, which a reader of the later frame cannot resolve (a function returning
 * the same object twice made the pool fail with "Unable to deserialize cloned data").
 */
function v8Body(value: unknown): Buffer {
  return serialize(value);
}

/**
 * The JSON text of `v` when JSON gives back exactly what V8's format would: a plain object (its
 * prototype Object.prototype) of at most {@link FLAT_JSON_KEYS} own enumerable properties, each a
 * string, a boolean, null or a finite number other than -0. Each property is read once, as V8's
 * serializer reads it. Anything else (nesting, undefined, an inherited enumerable key…) is undefined.
 */
export function flatJson(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  let text = '{';
  let n = 0;
  for (const key in v) {
    if (++n > FLAT_JSON_KEYS || !Object.hasOwn(v, key)) return undefined;
    const x = (v as Record<string, unknown>)[key];
    let enc: string;
    if (typeof x === 'string') enc = JSON.stringify(x);
    else if (typeof x === 'number') {
      if (!Number.isFinite(x) || Object.is(x, -0)) return undefined;
      enc = String(x);
    } else if (x === true || x === false || x === null) enc = String(x);
    else return undefined;
    text += `${n > 1 ? ',' : ''}${JSON.stringify(key)}:${enc}`;
  }
  return `${text}}`;
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

/**
 * Where decoded frames go. A start marker and a plain success (one each per call of a large map)
 * arrive as arguments, not objects: no allocation for the two frames every call sends.
 */
export interface FrameSink {
  start(batch: number, index: number): void;
  ok(
    batch: number,
    callId: number,
    attempt: number,
    fnStart: number,
    fnEnd: number,
    bytesOut: number,
    value: unknown,
  ): void;
  /** RESULTS, RESULTS_JSON and RELEASED. */
  frame(frame: Frame): void;
}

/**
 * Reassembles frames from chunks (a pipe's, or a ring's reads) and decodes them in place. A frame
 * split across chunks waits, its pieces copied once, when the whole frame is there.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  /** Adds a chunk; hands the frames it completed to `sink`, in order. */
  push(chunk: Buffer, sink: FrameSink): void {
    let buf = chunk;
    if (this.pendingLength > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      const first = this.pending[0] as Buffer;
      const need = first.length >= 5 ? 5 + first.readUInt32LE(1) : 5;
      if (this.pendingLength < need) return;
      buf = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
    }
    // A DataView reads the fixed fields: Buffer's readUInt32LE and readDoubleLE check their
    // arguments and assemble bytes on every read, five reads per call of a large map (issue 16).
    const dv = viewOf(buf);
    let at = 0;
    while (buf.length - at >= 5) {
      const end = at + 5 + dv.getUint32(at + 1, true);
      if (end > buf.length) break;
      decodeFrame(buf, dv, at, end, sink);
      at = end;
    }
    if (at < buf.length) {
      const rest = buf.subarray(at);
      this.pending = [rest];
      this.pendingLength = rest.length;
    }
  }
}

function decodeFrame(b: Buffer, dv: DataView, at: number, end: number, sink: FrameSink): void {
  const type = b[at];
  if (type === FRAME_START) return sink.start(dv.getUint32(at + 5, true), dv.getUint32(at + 9, true));
  if (type === FRAME_RESULT_OK)
    return sink.ok(
      dv.getUint32(at + 5, true),
      dv.getUint32(at + 9, true),
      dv.getUint32(at + 13, true),
      dv.getFloat64(at + 17, true),
      dv.getFloat64(at + 25, true),
      dv.getUint32(at + 33, true),
      okValue(b, dv, at, end),
    );
  if (type === FRAME_RESULTS || type === FRAME_RESULTS_JSON) {
    let records: CallRecord[];
    try {
      records = (
        type === FRAME_RESULTS ? deserialize(b.subarray(at + 9, end)) : JSON.parse(b.toString('utf8', at + 9, end))
      ) as CallRecord[];
    } catch (err) {
      throw new FrameDecodeError('records', err);
    }
    return sink.frame({ type, batch: b.readUInt32LE(at + 5), records });
  }
  const ranges: Array<{ batch: number; from: number }> = [];
  for (let o = at + 5; o + 8 <= end; o += 8) ranges.push({ batch: b.readUInt32LE(o), from: b.readUInt32LE(o + 4) });
  sink.frame({ type: FRAME_RELEASED, ranges });
}
