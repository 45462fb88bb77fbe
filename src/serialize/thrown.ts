/**
 * Reading a thrown value that may be hostile: getters that throw, `toString` that throws, Proxies
 * whose traps throw, cycles. Every reader here returns something and never throws, so a worker always
 * reports the call's failure instead of crashing on it.
 *
 * Worker-side code imports this module: keep it free of client-only imports.
 */
import v8 from 'node:v8';
import { inspect } from 'node:util';

/** Runs `read`; returns `fallback` when it throws. */
export function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** `String(value)` that never throws: a value whose conversion throws is described instead. */
export function safeString(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch (err) {
    return `[unreadable ${typeof value}: converting it to text threw ${describeFailure(err)}]`;
  }
}

/** Reads `obj[key]` as text; a getter or trap that throws gives a description of the failure. */
export function readText(obj: object, key: string): string | undefined {
  let value: unknown;
  try {
    value = (obj as Record<string, unknown>)[key];
  } catch (err) {
    return `[${key} could not be read: ${describeFailure(err)}]`;
  }
  return value === undefined ? undefined : safeString(value);
}

/** A one-line description of a value for an error message: JSON when possible, else `util.inspect`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'symbol') return safeString(value);
  if (typeof value === 'bigint') return `${value}n`;
  const json = attempt(() => JSON.stringify(value) as string | undefined, undefined);
  if (json !== undefined) return json;
  return attempt(
    () => inspect(value, { depth: 2, breakLength: Infinity, getters: false }),
    `[unreadable ${typeof value}]`,
  );
}

/**
 * The thrown value in transport form: `text` for people (and old clients), `value` (base64 V8
 * structured clone) so the client gets the very value back (`undefined`, `10n`, `null`, objects).
 * Symbols cannot be cloned: they travel as their description (`Symbol(reason)`).
 */
export function encodeThrown(value: unknown): { text: string; value?: string } {
  const text = describeValue(value);
  if (typeof value === 'symbol') return { text };
  const bytes = attempt(() => v8.serialize(value), undefined);
  return bytes ? { text, value: bytes.toString('base64') } : { text };
}

/** The client side of {@link encodeThrown}: the original value when it travelled, else the text. */
export function decodeThrown(text: string | undefined, value: string | undefined): { value: unknown } | undefined {
  if (value !== undefined) {
    const decoded = attempt(() => ({ value: v8.deserialize(Buffer.from(value, 'base64')) as unknown }), undefined);
    if (decoded) return decoded;
  }
  if (text === undefined) return undefined;
  // Records written before `thrownValue` existed carry JSON text.
  return { value: attempt(() => JSON.parse(text) as unknown, text) };
}

function describeFailure(err: unknown): string {
  const message = attempt(
    () => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
    'an unreadable value',
  );
  return typeof message === 'string' ? message : 'an unreadable value';
}
