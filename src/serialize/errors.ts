/**
 * Errors across the process boundary: the worker turns whatever the user's function threw into a
 * {@link SerializedError}; the client turns that back into a typed Burst error.
 */
import {
  BurstError,
  CancelledError,
  ERROR_CODE_CLASS,
  IntegrityError,
  InvalidKeyError,
  isBurstErrorCode,
  JobNotFoundError,
  NoSuchBucketError,
  NoSuchKeyError,
  OutOfMemoryError,
  PackagingError,
  RemoteError,
  SerializationError,
  StorageAuthError,
  StorageError,
  StorageUnavailableError,
  TimeoutError,
  UpstreamError,
  WorkerCrashError,
  type ErrorContext,
  type StorageOwnErrorCode,
} from '../errors.js';
import type { SerializedError } from '../worker/protocol.js';
import { attempt, decodeThrown, encodeThrown, readText, safeString } from './thrown.js';

/**
 * Turns any thrown value into a JSON-safe record, keeping name, message, stack and own properties.
 * Never throws: a value whose getters, traps or `toString` throw is reported with what could be read.
 */
export function serializeThrown(thrown: unknown): SerializedError {
  if (attempt(() => thrown instanceof BurstError && thrown.code === 'SERIALIZATION', false)) {
    const se = thrown as SerializationError;
    const path = readText(se, 'path');
    return {
      kind: 'serialization',
      name: readText(se, 'name') ?? 'SerializationError',
      message: readText(se, 'message') ?? '',
      ...(path ? { path } : {}),
    };
  }
  if (attempt(() => thrown instanceof Error, false)) {
    const err = thrown as Error;
    const upstream = attempt(() => thrown instanceof BurstError && thrown.code === 'UPSTREAM_FAILED', false);
    const out: SerializedError = {
      kind: upstream ? 'upstream' : 'remote',
      name: readText(err, 'name') || 'Error',
      message: readText(err, 'message') ?? '',
    };
    const stack = readText(err, 'stack');
    if (stack) out.stack = stack;
    const props = jsonSafeProperties(err);
    if (props) out.properties = props;
    return out;
  }
  const { text, value } = encodeThrown(thrown);
  return {
    kind: 'remote',
    name: 'NonError',
    message: `the function threw a non-Error value: ${text}`,
    thrown: text,
    ...(value !== undefined ? { thrownValue: value } : {}),
  };
}

function jsonSafeProperties(err: Error): Record<string, unknown> | undefined {
  const keys = attempt(() => Object.keys(err), [] as string[]);
  const out: Record<string, unknown> = {};
  let any = false;
  for (const key of keys) {
    if (key === 'stack' || key === 'message') continue;
    let v: unknown;
    try {
      v = (err as unknown as Record<string, unknown>)[key];
    } catch {
      out[key] = readText(err, key);
      any = true;
      continue;
    }
    out[key] =
      attempt(() => JSON.parse(JSON.stringify(v) ?? 'null') as unknown, undefined) ??
      (v === null || v === undefined ? null : safeString(v));
    any = true;
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
      const thrown = decodeThrown(se.thrown, se.thrownValue);
      if (thrown) info.thrown = thrown.value;
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
      return new WorkerCrashError(se.message + tail, {
        ...context,
        exitCode: se.exitCode ?? null,
        signal: se.signal ?? null,
      });
    case 'integrity':
      return new IntegrityError(se.message, context);
    case 'packaging':
      return new PackagingError(se.message, context);
    case 'storage':
      return storageError(se, context);
    case 'cancelled':
      return new CancelledError(se.message, context);
    case 'upstream': {
      const p = se.properties ?? {};
      const upstream = {
        jobId: String(p.upstreamJobId ?? ''),
        executorId: String(p.upstreamExecutorId ?? ''),
        callId: Number(p.upstreamCallId ?? -1),
        ...(typeof p.upstreamCode === 'string' ? { code: p.upstreamCode } : {}),
      };
      return new UpstreamError(se.message, upstream, context);
    }
  }
}

/**
 * A worker's storage failure as the class that owns its code (`NO_SUCH_BUCKET` → NoSuchBucketError),
 * with the worker's message; a code this client does not know becomes `STORAGE`.
 */
function storageError(se: SerializedError, context: ErrorContext): StorageError {
  const code = se.properties?.code;
  const bucket = typeof se.properties?.bucket === 'string' ? se.properties.bucket : '?';
  const key = typeof se.properties?.key === 'string' ? se.properties.key : '?';
  const withMessage = (err: StorageError): StorageError => Object.assign(err, { message: se.message });
  switch (code) {
    case 'JOB_DELETED':
      return new JobNotFoundError(se.message, context);
    case 'NO_SUCH_BUCKET':
      return withMessage(new NoSuchBucketError(bucket, context));
    case 'NO_SUCH_KEY':
      return withMessage(new NoSuchKeyError(bucket, key, context));
    case 'STORAGE_AUTH':
      return new StorageAuthError(se.message, context);
    case 'INVALID_KEY':
      return new InvalidKeyError(se.message, context);
    case 'STORAGE_UNAVAILABLE':
      return new StorageUnavailableError(se.message, context);
  }
  return new StorageError(storageOwnCode(code) ? code : 'STORAGE', se.message, context);
}

function storageOwnCode(code: unknown): code is StorageOwnErrorCode {
  return isBurstErrorCode(code) && ERROR_CODE_CLASS[code] === 'StorageError';
}
