/**
 * Encoding of arguments and results. Values use V8's structured-clone format (Map, Set, Date, RegExp,
 * BigInt, typed arrays, Buffer, nested and cyclic objects, Error). When a value cannot be encoded the
 * error names the path inside it (`input[3].handler`), found by a walk that only runs on failure.
 *
 * Worker-side code imports this module: keep it free of client-only imports.
 */
import v8 from 'node:v8';
import { types } from 'node:util';
import { SerializationError } from '../errors.js';

/** Encodes one value; `path` names it in errors (`input[3]`, `result`). */
export function encode(value: unknown, path = 'value'): Uint8Array {
  try {
    return v8.serialize(value);
  } catch (err) {
    throw unserializableError(value, path, err);
  }
}

/** Decodes bytes made by {@link encode}; `what` names them in errors. */
export function decode(bytes: Uint8Array, what = 'value'): unknown {
  try {
    return v8.deserialize(bytes);
  } catch (err) {
    throw new SerializationError(`cannot decode ${what}: ${(err as Error).message}`, { path: what, cause: err });
  }
}

/**
 * Checks that every element can be encoded, cheaply: one V8 pass over the whole array. On failure,
 * the error names the first element at fault and the path inside it.
 */
export function assertSerializable(values: readonly unknown[], name: string): void {
  // Numbers, strings, booleans, bigints, null and undefined always encode: a list of only those (a
  // large map's usual inputs) needs no encoding pass, which costs ~70 ns an element.
  if (allPlainPrimitives(values)) return;
  try {
    v8.serialize(values);
  } catch (err) {
    for (let i = 0; i < values.length; i++) {
      const bad = findUnserializable(values[i], `${name}[${i}]`);
      if (bad)
        throw new SerializationError(`cannot serialize ${bad.path}: ${bad.reason}`, { path: bad.path, cause: err });
    }
    // The walk found nothing: name at least the element V8 rejects on its own.
    for (let i = 0; i < values.length; i++) {
      try {
        v8.serialize(values[i]);
      } catch (own) {
        throw new SerializationError(`cannot serialize ${name}[${i}]: ${describeError(own)}`, {
          path: `${name}[${i}]`,
          cause: own,
        });
      }
    }
    throw new SerializationError(`cannot serialize ${name}: ${describeError(err)}`, { path: name, cause: err });
  }
}

/** True when every element is a primitive V8's format (and a structured clone) always encodes: anything but a symbol. */
export function allPlainPrimitives(values: readonly unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return false;
  }
  return true;
}

/** Builds the SerializationError for `value`, naming the path of the first thing at fault. */
export function unserializableError(value: unknown, path: string, cause: unknown): SerializationError {
  const bad = findUnserializable(value, path);
  const where = bad?.path ?? path;
  const why = bad?.reason ?? describeError(cause);
  return new SerializationError(`cannot serialize ${where}: ${why}`, { path: where, cause });
}

interface Offender {
  path: string;
  reason: string;
}

const UNCLONEABLE: ReadonlyArray<[new (...a: never[]) => object, string]> = [
  [Promise, 'a Promise cannot be sent; await it first'],
  [WeakMap, 'a WeakMap cannot be serialized'],
  [WeakSet, 'a WeakSet cannot be serialized'],
  [WeakRef, 'a WeakRef cannot be serialized'],
];

/**
 * Walks a value the way the structured clone algorithm does and returns the first part it would reject.
 * Never throws: a getter or Proxy trap that throws is itself the part at fault.
 */
export function findUnserializable(value: unknown, path: string, seen = new Set<object>()): Offender | undefined {
  try {
    return walk(value, path, seen);
  } catch (err) {
    return { path, reason: `reading it threw ${describeError(err)}` };
  }
}

function walk(value: unknown, path: string, seen: Set<object>): Offender | undefined {
  if (types.isProxy(value)) return { path, reason: 'a Proxy cannot be serialized; pass a plain copy of its contents' };
  if (typeof value === 'function') {
    return { path, reason: `a function (${value.name || 'anonymous'}) cannot be sent to workers` };
  }
  if (typeof value === 'symbol') return { path, reason: 'a symbol cannot be serialized' };
  if (typeof value !== 'object' || value === null) return undefined;
  if (seen.has(value)) return undefined;
  seen.add(value);
  for (const [cls, reason] of UNCLONEABLE) if (value instanceof cls) return { path, reason };
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) {
    return undefined;
  }
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      const bad =
        findUnserializable(k, `${path}.<key ${i}>`, seen) ?? findUnserializable(v, `${path}.get(${label(k)})`, seen);
      if (bad) return bad;
      i++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const v of value) {
      const bad = findUnserializable(v, `${path}.<item ${i++}>`, seen);
      if (bad) return bad;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findUnserializable(value[i], `${path}[${i}]`, seen);
      if (bad) return bad;
    }
    return undefined;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && !(value instanceof Error)) {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    // V8 clones class instances as plain objects; native handles (sockets, streams) are rejected.
    try {
      v8.serialize(value);
    } catch {
      const inner = walkProperties(value, path, seen);
      return inner ?? { path, reason: `a ${ctor} cannot be serialized` };
    }
    return undefined;
  }
  return walkProperties(value, path, seen);
}

function walkProperties(value: object, path: string, seen: Set<object>): Offender | undefined {
  for (const key of Object.keys(value)) {
    const childPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
    let child: unknown;
    try {
      child = (value as Record<string, unknown>)[key];
    } catch (err) {
      return { path: childPath, reason: `reading it threw ${describeError(err)}` };
    }
    const bad = findUnserializable(child, childPath, seen);
    if (bad) return bad;
  }
  return undefined;
}

function label(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : typeof key === 'object' ? '{…}' : String(key);
}

function describeError(err: unknown): string {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    return 'an unreadable value';
  }
}
