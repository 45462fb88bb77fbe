/**
 * A call's status record, `status/<call>.<attempt>`: written last by the worker that ran the call
 * (worker/handler.ts), read by the client's monitor, `attach`, `burst jobs`/`logs`/`plot` and the
 * dashboard. Results up to {@link INLINE_OUTPUT_BYTES} travel inside it (base64); larger ones, and
 * streams, are the separate `output/<call>.<attempt>` object and the record says `outputStored`.
 */
import { redactRecord } from '../redact.js';
import { onlyPlainStats, plainCallRecord, type CallRecord, type WorkerIdentity } from '../worker/protocol.js';
import { WorkerIndex } from './worker-index.js';
import {
  field,
  isBoolean,
  isIndex,
  isNumber,
  isObject,
  isString,
  malformed,
  parseObject,
  type RecordSource,
} from './record.js';

/** Results up to this size travel inside the status record. */
export const INLINE_OUTPUT_BYTES = 64 * 1024;

/** The JSON status record of a call, as stored; `storedAt` is when it was written (epoch ms). */
export type StoredStatus = Omit<CallRecord, 'output' | 'value'> & { output?: string; storedAt?: number };

/** A status record as the IPC channel batches it: no result at all (`status-batches/<n>`). */
export type BatchedStatus = Omit<CallRecord, 'output' | 'value'>;

const WHAT = 'call status record';

/**
 * The bytes of a status record: the result inline (base64) when the record carries one, the
 * `value` dropped, secrets redacted from the error and logs; `storedAt` when given.
 */
export function encodeStatus(record: CallRecord | StoredStatus, storedAt?: number): string {
  const { output, value: _value, ...rest } = record as CallRecord & { output?: Uint8Array | string };
  const stored: StoredStatus =
    output === undefined
      ? { ...rest }
      : { ...rest, output: typeof output === 'string' ? output : Buffer.from(output).toString('base64') };
  if (storedAt !== undefined) stored.storedAt = storedAt;
  return JSON.stringify(redactRecord(stored));
}

/**
 * Parses and checks a stored status record; a record of the older layout without an `attempt`
 * takes the key's attempt, else 1.
 * @throws MalformedRecordError naming the key and the field at fault.
 */
export function decodeStatus(
  input: Uint8Array | string,
  source: RecordSource | string,
  keyAttempt?: number,
): StoredStatus {
  const r = parseObject(input, source, WHAT);
  field(r, 'callId', isIndex, 'a call id (a non-negative integer)', source, WHAT);
  field(r, 'ok', isBoolean, 'true or false', source, WHAT);
  if (r.attempt === undefined) r.attempt = keyAttempt ?? 1;
  field(r, 'attempt', (v): v is number => isIndex(v) && v >= 1, 'a positive integer', source, WHAT);
  field(r, 'stats', isObject, 'an object', source, WHAT);
  if (r.error !== undefined) field(r, 'error', isObject, 'an object', source, WHAT);
  if (r.logs !== undefined) field(r, 'logs', isString, 'a string', source, WHAT);
  if (r.output !== undefined) field(r, 'output', isString, 'a base64 string', source, WHAT);
  if (r.outputStored !== undefined) field(r, 'outputStored', isBoolean, 'true or false', source, WHAT);
  if (r.storedAt !== undefined) field(r, 'storedAt', isNumber, 'a time in epoch ms', source, WHAT);
  return r as unknown as StoredStatus;
}

/** The call record a stored status stands for, its inline result decoded from base64. */
export function toCallRecord(stored: StoredStatus): CallRecord & { storedAt?: number } {
  const { output, ...rest } = stored;
  const record: CallRecord & { storedAt?: number } = rest;
  if (output !== undefined) record.output = Buffer.from(output, 'base64');
  return record;
}

/** A record for a status batch: no result, secrets redacted. */
export function toBatchedStatus(record: CallRecord): BatchedStatus {
  const { value: _value, output: _output, ...rest } = record;
  return redactRecord(rest);
}

/** Marks a status batch in columns ({@link StatusColumns}); an older batch is a JSON array of records. */
export const STATUS_COLUMNS_FORMAT = 'burst-status-columns/1';

/**
 * A status batch as the IPC channel writes it: the plain successes (no logs, no error, no extra
 * stats, whole-millisecond times) as columns of small integers, the workers once each; every other
 * record whole, redacted, in `records`. A 10^6-call job writes ~15 MB of JSON instead of ~200 MB.
 */
export interface StatusColumns {
  format: typeof STATUS_COLUMNS_FORMAT;
  /** Each worker once: hostname, pid, start time, thread id (null for a process). */
  workers: Array<[string, number, number, number | null]>;
  /** The time (epoch ms) the `start` column counts from. */
  base: number;
  /** Row i's call id minus row i-1's (row 0's: its call id). */
  callStep: number[];
  /** Index into `workers`. */
  worker: number[];
  /** fnStart - base. */
  start: number[];
  /** fnEnd - fnStart. */
  run: number[];
  /** storedAt - fnEnd. */
  wait: number[];
  /** Rows of cold calls. */
  cold: number[];
  /** [row, value] where the attempt is not 1, bytesIn and bytesOut not 0. */
  attempt: Array<[number, number]>;
  bytesIn: Array<[number, number]>;
  bytesOut: Array<[number, number]>;
  records: BatchedStatus[];
}

/** Collects one status batch; {@link encode} writes it. */
export class StatusColumnsBuilder {
  private cols: StatusColumns = emptyColumns();
  private workers = new WorkerIndex();
  private lastCall = 0;
  private rows = 0;
  /** Records added so far. */
  size = 0;

  add(record: CallRecord & { storedAt?: number }): void {
    this.size++;
    const s = record.stats;
    const c = this.cols;
    const storedAt = record.storedAt;
    if (
      !record.ok ||
      record.logs ||
      record.error ||
      record.outputStored ||
      storedAt === undefined ||
      !Number.isInteger(storedAt) ||
      !plain(s)
    ) {
      c.records.push(toBatchedStatus(record));
      return;
    }
    const row = this.rows++;
    if (row === 0) c.base = s.fnStart;
    c.callStep.push(record.callId - this.lastCall);
    this.lastCall = record.callId;
    c.worker.push(this.workers.indexOf(s));
    c.start.push(s.fnStart - c.base);
    c.run.push(s.fnEnd - s.fnStart);
    c.wait.push(storedAt - s.fnEnd);
    if (s.cold) c.cold.push(row);
    if (record.attempt !== 1) c.attempt.push([row, record.attempt]);
    if (s.bytesIn !== 0) c.bytesIn.push([row, s.bytesIn]);
    if (s.bytesOut !== 0) c.bytesOut.push([row, s.bytesOut]);
  }

  /** A plain success (see FRAME_RESULT_OK) from its fields, without a record object; stored at `storedAt`. */
  addPlain(
    callId: number,
    attempt: number,
    worker: WorkerIdentity,
    fnStart: number,
    fnEnd: number,
    bytesOut: number,
    storedAt: number,
  ): void {
    // The columns hold whole milliseconds: a time that is not one goes as a whole record.
    if (!Number.isInteger(fnStart) || !Number.isInteger(fnEnd) || !Number.isInteger(storedAt))
      return this.add({ ...plainCallRecord(worker, callId, attempt, fnStart, fnEnd, bytesOut, undefined), storedAt });
    this.size++;
    const c = this.cols;
    const row = this.rows++;
    if (row === 0) c.base = fnStart;
    c.callStep.push(callId - this.lastCall);
    this.lastCall = callId;
    c.worker.push(this.workers.indexOf(worker));
    c.start.push(fnStart - c.base);
    c.run.push(fnEnd - fnStart);
    c.wait.push(storedAt - fnEnd);
    if (attempt !== 1) c.attempt.push([row, attempt]);
    if (bytesOut !== 0) c.bytesOut.push([row, bytesOut]);
  }

  /** The batch's bytes; the builder starts over empty. */
  encode(): string {
    this.cols.workers = this.workers.list.map((w) => [w.hostname, w.pid, w.workerStart, w.threadId ?? null]);
    const text = JSON.stringify(this.cols);
    this.cols = emptyColumns();
    this.workers = new WorkerIndex();
    this.lastCall = 0;
    this.rows = 0;
    this.size = 0;
    return text;
  }
}

function emptyColumns(): StatusColumns {
  return {
    format: STATUS_COLUMNS_FORMAT,
    workers: [],
    base: 0,
    callStep: [],
    worker: [],
    start: [],
    run: [],
    wait: [],
    cold: [],
    attempt: [],
    bytesIn: [],
    bytesOut: [],
    records: [],
  };
}

function plain(s: CallRecord['stats']): boolean {
  return (
    onlyPlainStats(s) &&
    typeof s.hostname === 'string' &&
    Number.isFinite(s.pid) &&
    Number.isInteger(s.fnStart) &&
    Number.isInteger(s.fnEnd) &&
    Number.isFinite(s.workerStart) &&
    Number.isFinite(s.bytesIn) &&
    Number.isFinite(s.bytesOut)
  );
}

/** The records of a batch in columns, one object per call (the whole records first, then the rows). */
function expandColumns(c: Partial<StatusColumns>): unknown[] {
  const out: unknown[] = Array.isArray(c.records) ? [...c.records] : [];
  const steps = Array.isArray(c.callStep) ? c.callStep : [];
  const workers = Array.isArray(c.workers) ? c.workers : [];
  const base = typeof c.base === 'number' ? c.base : 0;
  const sparse = (list: unknown): Map<number, number> =>
    new Map(Array.isArray(list) ? (list.filter((e) => Array.isArray(e)) as Array<[number, number]>) : []);
  const attempts = sparse(c.attempt);
  const bytesIn = sparse(c.bytesIn);
  const bytesOut = sparse(c.bytesOut);
  const cold = new Set(Array.isArray(c.cold) ? c.cold : []);
  let callId = 0;
  for (let i = 0; i < steps.length; i++) {
    callId += steps[i] as number;
    const w = workers[c.worker?.[i] ?? -1];
    if (!Array.isArray(w)) continue; // a malformed row: skipped, as a malformed record is
    const [hostname, pid, workerStart, threadId] = w;
    const fnStart = base + (c.start?.[i] as number);
    const fnEnd = fnStart + (c.run?.[i] as number);
    out.push({
      callId,
      ok: true,
      attempt: attempts.get(i) ?? 1,
      storedAt: fnEnd + (c.wait?.[i] as number),
      stats: {
        workerStart,
        fnStart,
        fnEnd,
        cold: cold.has(i),
        bytesIn: bytesIn.get(i) ?? 0,
        bytesOut: bytesOut.get(i) ?? 0,
        hostname,
        pid,
        ...(threadId !== null && threadId !== undefined ? { threadId } : {}),
      },
    });
  }
  return out;
}

/**
 * The records of a status object (one record) or a status batch (an array, or columns), for readers that show
 * what they can: items that are not status records are skipped, not thrown.
 * @throws MalformedRecordError when the object is not JSON at all.
 */
export function decodeStatusList(input: Uint8Array | string, source: RecordSource | string): unknown[] {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw malformed(source, WHAT, `not JSON (${(err as Error).message})`, err);
  }
  if (Array.isArray(parsed)) return parsed;
  if (typeof parsed === 'object' && parsed !== null && (parsed as StatusColumns).format === STATUS_COLUMNS_FORMAT)
    return expandColumns(parsed as StatusColumns);
  return [parsed];
}

/** What {@link newerStatus} compares: a record's attempt and, when known, when it was written. */
export interface AttemptStamp {
  attempt: number;
  storedAt?: number | undefined;
  /** Whether the attempt succeeded and, when not, its error's kind, when known. */
  ok?: boolean | undefined;
  error?: { kind?: string } | undefined;
}

/** A cancelled attempt: the loser of a speculative backup race (executor/speculate.ts) is one. */
const cancelledAttempt = (s: AttemptStamp): boolean => s.ok === false && s.error?.kind === 'cancelled';

/**
 * Whether `next` supersedes `prev` as a call's status: the higher attempt wins, whatever the order
 * the writes landed in (a stale attempt's worker may write after the retry's); for the same attempt,
 * the later write. A success always beats a cancelled attempt (a speculative backup's loser). Every reader (monitor, attach, `burst jobs`/`logs`/`plot`, the dashboard) picks
 * a call's status with this.
 */
export function newerStatus(prev: AttemptStamp | undefined, next: AttemptStamp): boolean {
  if (!prev) return true;
  // A success is never hidden by a cancelled copy of the same call (a speculative backup that lost).
  if (prev.ok === true && cancelledAttempt(next)) return false;
  if (next.ok === true && cancelledAttempt(prev)) return true;
  if (next.attempt !== prev.attempt) return next.attempt > prev.attempt;
  return (next.storedAt ?? 0) >= (prev.storedAt ?? 0);
}
