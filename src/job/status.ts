/**
 * A call's status record, `status/<call>.<attempt>`: written last by the worker that ran the call
 * (worker/handler.ts), read by the client's monitor, `attach`, `burst jobs`/`logs`/`plot` and the
 * dashboard. Results up to {@link INLINE_OUTPUT_BYTES} travel inside it (base64); larger ones, and
 * streams, are the separate `output/<call>.<attempt>` object and the record says `outputStored`.
 */
import { redactRecord } from '../redact.js';
import type { CallRecord } from '../worker/protocol.js';
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

/** The bytes of a status batch. */
export function encodeStatusBatch(batch: readonly BatchedStatus[]): string {
  return JSON.stringify(batch);
}

/**
 * The records of a status object (one record) or a status batch (an array), for readers that show
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
  return Array.isArray(parsed) ? parsed : [parsed];
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
