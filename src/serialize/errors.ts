/**
 * Errors across the process boundary: the worker turns whatever the user's function threw into a
 * {@link SerializedError}; the client turns that back into a typed Burst error.
 */
import {
  BurstError,
  CancelledError,
  IntegrityError,
  JobNotFoundError,
  OutOfMemoryError,
  PackagingError,
  RemoteError,
  SerializationError,
  StorageError,
  TimeoutError,
  WorkerCrashError,
  type ErrorContext,
} from '../errors.js';
import type { SerializedError } from '../worker/protocol.js';

/** Turns any thrown value into a JSON-safe record, keeping name, message, stack and own properties. */
export function serializeThrown(thrown: unknown): SerializedError {
  if (thrown instanceof BurstError && thrown.code === 'SERIALIZATION') {
    const se = thrown as SerializationError;
    return { kind: 'serialization', name: se.name, message: se.message, ...(se.path ? { path: se.path } : {}) };
  }
  if (thrown instanceof Error) {
    const out: SerializedError = { kind: 'remote', name: thrown.name || 'Error', message: thrown.message };
    if (thrown.stack) out.stack = thrown.stack;
    const props = jsonSafeProperties(thrown);
    if (props) out.properties = props;
    return out;
  }
  let text: string;
  try {
    text = JSON.stringify(thrown) ?? String(thrown);
  } catch {
    text = String(thrown);
  }
  return { kind: 'remote', name: 'NonError', message: `the function threw a non-Error value: ${text}`, thrown: text };
}

function jsonSafeProperties(err: Error): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(err)) {
    if (key === 'stack' || key === 'message') continue;
    try {
      const v = JSON.parse(JSON.stringify((err as unknown as Record<string, unknown>)[key]) ?? 'null') as unknown;
      out[key] = v;
      any = true;
    } catch {
      out[key] = String((err as unknown as Record<string, unknown>)[key]);
      any = true;
    }
  }
  return any ? out : undefined;
}

/** Builds the typed Burst error for a serialized one, with the call's context. */
export function toBurstError(se: SerializedError, context: ErrorContext): BurstError {
  const err = typedError(se, context);
  if (context.logLocation) err.message += `\n(logs: ${context.logLocation})`;
  return err;
}

function typedError(se: SerializedError, context: ErrorContext): BurstError {
  const tail = context.logsTail ? `\n--- last output of the call ---\n${context.logsTail}` : '';
  switch (se.kind) {
    case 'remote': {
      const info: ConstructorParameters<typeof RemoteError>[0] = { name: se.name, message: se.message };
      if (se.stack !== undefined) info.stack = se.stack;
      if (se.properties) info.properties = se.properties;
      if (se.thrown !== undefined) info.thrown = parseThrown(se.thrown);
      const err = new RemoteError(info, context);
      if (tail) err.message += tail;
      return err;
    }
    case 'serialization':
      return new SerializationError(se.message, { ...context, ...(se.path ? { path: se.path } : {}) });
    case 'timeout':
      return new TimeoutError(se.message, context);
    case 'oom':
      return new OutOfMemoryError(se.message + tail, context);
    case 'crash':
      return new WorkerCrashError(se.message + tail, { ...context, exitCode: se.exitCode ?? null, signal: se.signal ?? null });
    case 'integrity':
      return new IntegrityError(se.message, context);
    case 'packaging':
      return new PackagingError(se.message, context);
    case 'storage':
      if (se.properties?.code === 'JOB_DELETED') return new JobNotFoundError(se.message, context);
      return new StorageError(String(se.properties?.code ?? 'STORAGE'), se.message, context);
    case 'cancelled':
      return new CancelledError(se.message, context);
  }
}

function parseThrown(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
