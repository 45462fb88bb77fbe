/**
 * Shared checks of the JSON records of the data plane: every decoder parses with these, so a bad
 * record fails with one {@link MalformedRecordError} that names the object and the field at fault.
 */
import { MalformedRecordError } from '../errors.js';

/** Where a record was read from: its key, and the bucket when the reader knows it. */
export interface RecordSource {
  key: string;
  bucket?: string;
}

/** A JSON object of a record, by field. */
export type Fields = Record<string, unknown>;

/** The error for a record at `source` that is not a `what` (the reason says why). */
export function malformed(
  source: RecordSource | string,
  what: string,
  reason: string,
  cause?: unknown,
): MalformedRecordError {
  const { key, bucket } = typeof source === 'string' ? { key: source, bucket: undefined } : source;
  const where = bucket === undefined ? `"${key}"` : `"${key}" in bucket "${bucket}"`;
  return new MalformedRecordError(`${where} is not a ${what}: ${reason}`, {
    key,
    ...(bucket !== undefined ? { bucket } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** Parses a record's bytes (or text) as JSON. */
export function parseJson(input: Uint8Array | string, source: RecordSource | string, what: string): unknown {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw malformed(source, what, `not JSON (${(err as Error).message})`, err);
  }
}

/** Parses a record that must be a JSON object. */
export function parseObject(input: Uint8Array | string, source: RecordSource | string, what: string): Fields {
  const value = parseJson(input, source, what);
  if (!isObject(value)) throw malformed(source, what, `expected a JSON object, got ${describe(value)}`);
  return value;
}

export function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a value is a call id or count: a non-negative safe integer. */
export function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A short description of a value of the wrong type, for messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null || Array.isArray(value)) return value === null ? 'null' : 'an array';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${typeof value} ${text.slice(0, 37)}...` : `${typeof value} ${text}`;
}

/** Checks one field; throws naming the field when `ok` is false. */
export function field<T>(
  fields: Fields,
  name: string,
  ok: (v: unknown) => v is T,
  expected: string,
  source: RecordSource | string,
  what: string,
): T {
  const v = fields[name];
  if (!ok(v)) throw malformed(source, what, `"${name}" must be ${expected}, got ${describe(v)}`);
  return v;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
