/**
 * Burst's error hierarchy. Every error thrown by Burst is a {@link BurstError} with a typed `code`
 * (one union per class, in error-codes.ts), an optional ES2022 `cause`, and typed context fields.
 * `instanceof` works across duplicated module copies (two installs of burst in one process) because
 * each class checks a `Symbol.for` brand.
 */

import { redactText } from './redact.js';
import type {
  BurstErrorCode,
  CancelledErrorCode,
  ConfigErrorCode,
  IntegrityErrorCode,
  InvalidKeyErrorCode,
  JobNotFoundErrorCode,
  MaxFailuresErrorCode,
  UpstreamErrorCode,
  NoSuchBucketErrorCode,
  NoSuchKeyErrorCode,
  OutOfMemoryErrorCode,
  PackagingErrorCode,
  RemoteErrorCode,
  SerializationErrorCode,
  StorageAuthErrorCode,
  StorageErrorCode,
  StorageUnavailableErrorCode,
  MalformedRecordErrorCode,
  TimeoutErrorCode,
  WaitTimeoutErrorCode,
  WorkerCrashErrorCode,
  PrimitiveErrorCode,
} from './error-codes.js';

export type * from './error-codes.js';
export { ERROR_CODE_CLASS, isBurstErrorCode } from './error-codes.js';

const BRAND = Symbol.for('burst.error');
const KIND = Symbol.for('burst.error.kind');

/** Context that locates an error: which call, job, backend or storage object it concerns. */
export interface ErrorContext {
  /** The call's number in its job (0-based), as `future.callId`. */
  callId?: number;
  jobId?: string;
  executorId?: string;
  backend?: string;
  bucket?: string;
  key?: string;
  /** The attempt (1-based) on which the error happened. */
  attempt?: number;
  /** The last lines of the call's console output, when there were any. */
  logsTail?: string;
  /** Where the platform kept the call's logs, when they are not with Burst (e.g. a CloudWatch stream). */
  logLocation?: string;
}

/** Options accepted by every Burst error constructor. */
export interface BurstErrorOptions extends ErrorContext {
  cause?: unknown;
}

/** Base class of every error Burst throws. */
export class BurstError extends Error {
  /**
   * A stable machine-readable code, e.g. `'TIMEOUT'`; each code belongs to one class (see
   * {@link BurstErrorCode} and the README's "Error codes" table). Subclasses narrow it.
   */
  readonly code: BurstErrorCode;
  callId?: number;
  jobId?: string;
  executorId?: string;
  backend?: string;
  bucket?: string;
  key?: string;
  attempt?: number;
  logsTail?: string;
  logLocation?: string;

  /** `code` should be a {@link GeneralErrorCode}: the other codes belong to the subclasses that pass them. */
  constructor(code: BurstErrorCode, message: string, options: BurstErrorOptions = {}) {
    const { cause, ...context } = options;
    // Messages name endpoints and URLs: never with their passwords, tokens or signatures.
    super(redactText(message), cause === undefined ? undefined : { cause });
    this.code = code;
    for (const [k, v] of Object.entries(context)) {
      if (v !== undefined) (this as Record<string, unknown>)[k] = v;
    }
    Object.defineProperty(this, 'name', {
      value: new.target.name,
      enumerable: false,
      configurable: true,
      writable: true,
    });
    Object.defineProperty(this, BRAND, { value: true });
    Object.defineProperty(this, KIND, { value: kindsOf(new.target) });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(value as Record<symbol, unknown>)[BRAND]) return false;
    const kinds = (value as Record<symbol, unknown>)[KIND];
    return Array.isArray(kinds) && kinds.includes(this.name);
  }
}

/** The class names from `cls` up to BurstError: what `instanceof` checks against. */
function kindsOf(cls: unknown): string[] {
  const names: string[] = [];
  for (let c = cls as { name: string } | null; c?.name && c !== Error; c = Object.getPrototypeOf(c)) {
    names.push(c.name);
  }
  return names;
}

/** An exception thrown by the user's function, brought back with its name, message, own properties and remote stack. */
export class RemoteError extends BurstError {
  declare readonly code: RemoteErrorCode;
  /** The original error's `name` (e.g. `TypeError`, or a user class name). */
  readonly remoteName: string;
  /** The stack trace as printed in the worker. */
  readonly remoteStack?: string;
  /** Enumerable own properties of the thrown value (e.g. `code`), when serializable. */
  readonly properties: Record<string, unknown>;
  /** The value thrown, when it was not an Error (`throw 42`). */
  readonly thrown?: unknown;

  constructor(
    info: { name: string; message: string; stack?: string; properties?: Record<string, unknown>; thrown?: unknown },
    options: BurstErrorOptions = {},
  ) {
    const where = options.callId !== undefined ? ` in call ${options.callId}` : '';
    super('REMOTE_ERROR', `${info.name}: ${info.message}${where}`, options);
    this.remoteName = info.name;
    if (info.stack !== undefined) this.remoteStack = info.stack;
    this.properties = info.properties ?? {};
    if ('thrown' in info) this.thrown = info.thrown;
    if (info.stack) this.stack = `${this.name}: ${this.message}\n    --- remote stack ---\n${info.stack}`;
  }
}

/** A call ran longer than its timeout; its worker was killed and replaced. */
export class TimeoutError extends BurstError {
  declare readonly code: TimeoutErrorCode;
  constructor(message: string, options: BurstErrorOptions & { timeoutSeconds?: number } = {}) {
    const { timeoutSeconds, ...rest } = options;
    super('TIMEOUT', message, rest);
    if (timeoutSeconds !== undefined) this.timeoutSeconds = timeoutSeconds;
  }
  timeoutSeconds?: number;
}

/** The process running a call died: it exited, was killed, or crashed. */
export class WorkerCrashError extends BurstError {
  declare readonly code: WorkerCrashErrorCode;
  exitCode?: number | null;
  signal?: string | null;
  constructor(message: string, options: BurstErrorOptions & { exitCode?: number | null; signal?: string | null } = {}) {
    const { exitCode, signal, ...rest } = options;
    super('WORKER_CRASH', message, rest);
    this.exitCode = exitCode ?? null;
    this.signal = signal ?? null;
  }
}

/** The process running a call ran out of memory. */
export class OutOfMemoryError extends BurstError {
  declare readonly code: OutOfMemoryErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('OUT_OF_MEMORY', message, options);
  }
}

/** A value could not be serialized or deserialized; `path` names where inside it (`input[3].handler`). */
export class SerializationError extends BurstError {
  declare readonly code: SerializationErrorCode;
  path?: string;
  constructor(message: string, options: BurstErrorOptions & { path?: string } = {}) {
    const { path, ...rest } = options;
    super('SERIALIZATION', message, rest);
    if (path !== undefined) this.path = path;
  }
}

/** A function could not be packaged for shipping to workers. */
export class PackagingError extends BurstError {
  declare readonly code: PackagingErrorCode;
  /** Names of local variables the function captures, when that is the reason. */
  capturedVariables?: string[];
  constructor(message: string, options: BurstErrorOptions & { capturedVariables?: string[] } = {}) {
    const { capturedVariables, ...rest } = options;
    super('PACKAGING', message, rest);
    if (capturedVariables) this.capturedVariables = capturedVariables;
  }
}

/** Stored bytes failed their content check: a function bundle its hash, or a streamed result its size or SHA-256. */
export class IntegrityError extends BurstError {
  declare readonly code: IntegrityErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('INTEGRITY', message, options);
  }
}

/** Invalid options or configuration. */
export class ConfigError extends BurstError {
  declare readonly code: ConfigErrorCode;
  /** The option or config key at fault, as a dotted path (`s3.partSize`), or the flag or variable (`--workers`, `BURST_STORAGE_CONFIG`). */
  keyPath?: string;
  constructor(message: string, options: BurstErrorOptions & { keyPath?: string } = {}) {
    const { keyPath, ...rest } = options;
    super('CONFIG', message, rest);
    if (keyPath !== undefined) this.keyPath = keyPath;
  }
}

/** A wait or getResult gave up before the futures finished. */
export class WaitTimeoutError extends BurstError {
  declare readonly code: WaitTimeoutErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('WAIT_TIMEOUT', message, options);
  }
}

/**
 * The executor was closed or the call cancelled before it finished (`future.cancel()`, an aborted
 * `signal`, or its job stopped). With a signal, `cause` is the signal's reason.
 */
export class CancelledError extends BurstError {
  declare readonly code: CancelledErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}, code: CancelledErrorCode = 'CANCELLED') {
    super(code, message, options);
  }
}

/** The job stopped early because `maxFailures` of its calls had failed; this call was not run to the end. */
export class MaxFailuresError extends CancelledError {
  declare readonly code: MaxFailuresErrorCode;
  /** Failed calls when the job stopped, and the threshold it reached. */
  readonly failures: number;
  readonly maxFailures: number;
  constructor(message: string, failures: number, maxFailures: number, options: BurstErrorOptions = {}) {
    super(message, options, 'MAX_FAILURES');
    this.failures = failures;
    this.maxFailures = maxFailures;
  }
}

/**
 * A call did not run because one of its inputs was the result of another call (a future, or the
 * previous job of a chain) and that call failed. `jobId`/`callId` name this call; the `upstream*`
 * fields name the call that failed, and the message has its error.
 */
export class UpstreamError extends BurstError {
  declare readonly code: UpstreamErrorCode;
  /** The job, executor and call whose failure this is. */
  readonly upstreamJobId: string;
  readonly upstreamExecutorId: string;
  readonly upstreamCallId: number;
  /** The upstream call's error code (e.g. `'REMOTE_ERROR'`), when it had one. */
  readonly upstreamCode: string | undefined;
  constructor(
    message: string,
    upstream: { jobId: string; executorId: string; callId: number; code?: string | undefined },
    options: BurstErrorOptions = {},
  ) {
    super('UPSTREAM_FAILED', message, options);
    this.upstreamJobId = upstream.jobId;
    this.upstreamExecutorId = upstream.executorId;
    this.upstreamCallId = upstream.callId;
    this.upstreamCode = upstream.code;
  }
}

/** Base of storage errors. */
export class StorageError extends BurstError {
  declare readonly code: StorageErrorCode;
  /** `code` should be a {@link StorageOwnErrorCode}: the others belong to the subclasses. */
  constructor(code: StorageErrorCode, message: string, options: BurstErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The bucket does not exist. */
export class NoSuchBucketError extends StorageError {
  declare readonly code: NoSuchBucketErrorCode;
  constructor(bucket: string, options: BurstErrorOptions = {}) {
    super('NO_SUCH_BUCKET', `bucket "${bucket}" does not exist`, { ...options, bucket });
  }
}

/** The object does not exist. */
export class NoSuchKeyError extends StorageError {
  declare readonly code: NoSuchKeyErrorCode;
  constructor(bucket: string, key: string, options: BurstErrorOptions = {}) {
    super('NO_SUCH_KEY', `object "${key}" does not exist in bucket "${bucket}"`, { ...options, bucket, key });
  }
}

/**
 * A call's job is gone from storage (its manifest or data was deleted, e.g. by `burst clean --force`
 * while it ran), so the call could not run. Code `JOB_DELETED`; `jobId` and `executorId` name the job.
 */
export class JobNotFoundError extends StorageError {
  declare readonly code: JobNotFoundErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('JOB_DELETED', message, options);
  }
}

/** Credentials were missing or rejected. The message never contains a secret. */
export class StorageAuthError extends StorageError {
  declare readonly code: StorageAuthErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('STORAGE_AUTH', message, options);
  }
}

/** A key or bucket name was refused before any request was made. */
export class InvalidKeyError extends StorageError {
  declare readonly code: InvalidKeyErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('INVALID_KEY', message, options);
  }
}

/** The storage endpoint could not be reached after bounded retries. */
export class StorageUnavailableError extends StorageError {
  declare readonly code: StorageUnavailableErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('STORAGE_UNAVAILABLE', message, options);
  }
}

/**
 * An object of the data plane (a job manifest, status record, claim or lease) is not what Burst
 * writes there: unreadable JSON or a missing field. `key` names the object; the message says what is wrong.
 */
export class MalformedRecordError extends StorageError {
  declare readonly code: MalformedRecordErrorCode;
  constructor(message: string, options: BurstErrorOptions = {}) {
    super('MALFORMED_RECORD', message, options);
  }
}

/**
 * A queue, lock, counter, barrier or event failed: its server could not be reached
 * (`PRIMITIVES_UNREACHABLE`, the message names the address), a timed wait ran out
 * (`PRIMITIVE_TIMEOUT`), or a lock's lease had expired (`LOCK_NOT_HELD`).
 */
export class PrimitiveError extends BurstError {
  declare readonly code: PrimitiveErrorCode;
  /** The primitive's name, when one is at fault. */
  readonly primitive?: string;
  constructor(code: PrimitiveErrorCode, message: string, options: BurstErrorOptions & { primitive?: string } = {}) {
    const { primitive, ...rest } = options;
    super(code, message, rest);
    if (primitive !== undefined) this.primitive = primitive;
  }
}

/** True when `value` is any Burst error, even from another copy of the module. */
export function isBurstError(value: unknown): value is BurstError {
  return value instanceof BurstError;
}
