/**
 * The `code` of every Burst error, as one string-literal union per error class. Each code belongs to
 * exactly one class ({@link ERROR_CODE_CLASS} says which; two classes sharing a code fails to
 * compile). A class's `code` is typed with the codes of it and its subclasses, so
 * `err instanceof StorageError` narrows `err.code` to {@link StorageErrorCode}. The README's
 * "Error codes" table lists the same codes with what to do about each.
 */

/** Codes of errors thrown as a plain `BurstError` (no more specific class). */
export type GeneralErrorCode =
  /** A worker was asked to run a call number the job does not have (a wrong `--calls` list or job). */
  | 'BAD_CALL'
  /** A dashboard request lacks a required parameter; answered with HTTP 400. */
  | 'BAD_REQUEST'
  /** `burst test` found that a check failed: a storage round trip or a test call gave a wrong answer. */
  | 'CHECK_FAILED'
  /** `burst attach --resubmit` refused: the executor's client still holds its lease. */
  | 'CLIENT_ALIVE'
  /** An attached job ran over the localhost IPC channel and its client is gone: the call cannot finish. */
  | 'CLIENT_LOST'
  /** Deploying the AWS Lambda worker function failed (`burst runtime deploy --backend aws_lambda`). */
  | 'DEPLOY_FAILED'
  /** A broken internal invariant: a bug in Burst; please report it. */
  | 'INTERNAL'
  /** Building a worker image needs docker or podman and neither works. */
  | 'NO_IMAGE_BUILDER'
  /** No job or executor with that id is in storage (`burst logs`, `burst status`, the dashboard). */
  | 'NO_SUCH_JOB'
  /** An attached IPC job's call succeeded, but its result stayed in the client that ran it. */
  | 'RESULT_NOT_STORED'
  /** Building a worker image (docker/podman, `npm pack`) failed. */
  | 'RUNTIME_BUILD'
  /** Deploying a Knative, Cloud Run or Code Engine worker service failed. */
  | 'RUNTIME_DEPLOY'
  /** The backend (Slurm, AWS Lambda) refused to take the job. */
  | 'SUBMIT_REJECTED'
  /** The job or event was written by a burst version this worker cannot read. */
  | 'VERSION_MISMATCH';

/** Code of `RemoteError`: the user's function threw. */
export type RemoteErrorCode = 'REMOTE_ERROR';
/** Code of `TimeoutError`: a call ran past its `timeout`. */
export type TimeoutErrorCode = 'TIMEOUT';
/** Code of `WorkerCrashError`: the process running a call died. */
export type WorkerCrashErrorCode = 'WORKER_CRASH';
/** Code of `OutOfMemoryError`: the process running a call ran out of memory. */
export type OutOfMemoryErrorCode = 'OUT_OF_MEMORY';
/** Code of `SerializationError`: a value could not be sent. */
export type SerializationErrorCode = 'SERIALIZATION';
/** Code of `PackagingError`: a function could not be packaged. */
export type PackagingErrorCode = 'PACKAGING';
/** Code of `IntegrityError`: stored bytes failed their content check. */
export type IntegrityErrorCode = 'INTEGRITY';
/** Code of `ConfigError`: an option, flag, environment variable or config file value is invalid. */
export type ConfigErrorCode = 'CONFIG';
/** Code of `WaitTimeoutError`: `wait`/`getResult` gave up. */
export type WaitTimeoutErrorCode = 'WAIT_TIMEOUT';
/** Code of `MaxFailuresError`: the job stopped after `maxFailures` failed calls. */
export type MaxFailuresErrorCode = 'MAX_FAILURES';
/** Code of `UpstreamError`: a call's input was the result of another call (a future), and that call failed. */
export type UpstreamErrorCode = 'UPSTREAM_FAILED';
/** Codes a `CancelledError` carries: its own, and its subclass `MaxFailuresError`'s. */
export type CancelledErrorCode =
  /** The call was cancelled, its signal aborted, or the executor or backend closed before it finished. */
  'CANCELLED' | MaxFailuresErrorCode;

/** Code of `NoSuchBucketError`. */
export type NoSuchBucketErrorCode = 'NO_SUCH_BUCKET';
/** Code of `NoSuchKeyError`. */
export type NoSuchKeyErrorCode = 'NO_SUCH_KEY';
/** Code of `JobNotFoundError`: the call's job was deleted from storage. */
export type JobNotFoundErrorCode = 'JOB_DELETED';
/** Code of `StorageAuthError`: credentials missing or rejected. */
export type StorageAuthErrorCode = 'STORAGE_AUTH';
/** Code of `InvalidKeyError`: a key or bucket name refused before any request. */
export type InvalidKeyErrorCode = 'INVALID_KEY';
/** Code of `StorageUnavailableError`: the endpoint could not be reached. */
export type StorageUnavailableErrorCode = 'STORAGE_UNAVAILABLE';
/** Code of `MalformedRecordError`: a data-plane object (manifest, status, claim, lease) is not what Burst writes. */
export type MalformedRecordErrorCode = 'MALFORMED_RECORD';

/** Codes thrown as a plain `StorageError`. */
export type StorageOwnErrorCode =
  /** Deleting a bucket that still holds objects. */
  | 'BUCKET_NOT_EMPTY'
  /** Creating an S3 bucket whose name another account owns. */
  | 'BUCKET_TAKEN'
  /** An S3 object was overwritten while a read of it ran (its ETag changed): `get` tried three times, a stream fails at once. */
  | 'CHANGED_DURING_READ'
  /** A file-system operation of the fs driver failed (permissions, I/O); the message has the OS error. */
  | 'FS_ERROR'
  /** S3 refused a bucket name. */
  | 'INVALID_BUCKET'
  /** `presign` got an `expiresSeconds` outside 1–604800. */
  | 'INVALID_EXPIRY'
  /** `getJSON` read bytes that are not JSON, or `putJSON` got a value JSON cannot hold. */
  | 'INVALID_JSON'
  /** A byte range with a negative or non-integer `offset`/`length`. */
  | 'INVALID_RANGE'
  /** A download pattern (`burst storage get 'prefix/*.csv'`) matched no object. */
  | 'NO_OBJECTS_MATCH'
  /** The disk under the fs driver's root is full or over quota. */
  | 'NO_SPACE'
  /** An upload's local source file (or pattern) does not exist. */
  | 'NO_SUCH_FILE'
  /** The driver cannot do this (e.g. presigned URLs on fs or memory). */
  | 'NOT_SUPPORTED'
  /** A call returned a stream but its worker cannot write to the executor's storage (e.g. `memory`). */
  | 'RESULT_STORAGE_UNREACHABLE'
  /** A call returned a stream and storing it failed for a reason with no more specific code. */
  | 'RESULT_STORAGE_FAILED'
  /** Any other S3 error; the message has S3's code and HTTP status. */
  | 'S3_ERROR'
  /** A storage failure reported by a worker without a code this client knows (e.g. a newer worker). */
  | 'STORAGE'
  /** An HTTP worker (`burst serve`) gave up waiting on storage for a job's manifest, bundle or inputs. */
  | 'STORAGE_TIMEOUT'
  /** An S3 upload would need more than 10,000 parts: raise `s3.partSize`. */
  | 'TOO_MANY_PARTS';

/** Codes a `StorageError` carries: its own and its subclasses'. */
export type StorageErrorCode =
  | StorageOwnErrorCode
  | NoSuchBucketErrorCode
  | NoSuchKeyErrorCode
  | JobNotFoundErrorCode
  | StorageAuthErrorCode
  | InvalidKeyErrorCode
  | StorageUnavailableErrorCode
  | MalformedRecordErrorCode;

/** Code of `InvocationError`: an HTTP worker service refused an invocation or stayed unreachable. */
export type InvocationErrorCode = 'INVOKE_FAILED';
/** Code of `RuntimeMissingError`: the AWS Lambda worker function was never deployed. */
export type RuntimeMissingErrorCode = 'RUNTIME_MISSING';

/** Codes of `PartitionError`. */
export type PartitionErrorCode =
  /** A prefix or folder holds no object. */
  | 'EMPTY_PREFIX'
  /** A glob matched no object. */
  | 'NO_MATCH'
  /** The object's size or version tag differs from what was planned. */
  | 'OBJECT_CHANGED'
  /** An HTTP(S) server answered with an error status or without the headers a range read needs. */
  | 'HTTP'
  /** An HTTP(S) server did not connect, answer or send its body within the time limits. */
  | 'HTTP_TIMEOUT'
  /** An HTTP(S) server redirected to another host (not allowed by `httpRedirectHosts`) or from HTTPS to HTTP. */
  | 'HTTP_REDIRECT'
  /** A user partitioner returned ranges that do not fit the object. */
  | 'BAD_RANGES'
  /** The plan would hold more partitions than the limit. */
  | 'TOO_MANY_PARTITIONS';

/** Codes of `PrimitiveError` (queues, locks, counters, barriers, events). */
export type PrimitiveErrorCode =
  /** The primitives' server (Redis, or the client's in-process server) could not be reached in time. */
  | 'PRIMITIVES_UNREACHABLE'
  /** A `get`, `acquire` or `wait` with a `timeout` did not succeed within it. */
  | 'PRIMITIVE_TIMEOUT'
  /** `release` or `extend` of a lock whose lease had expired (another holder may have it now). */
  | 'LOCK_NOT_HELD';

/** Every code a Burst error can carry; `switch (err.code)` over it is checked for exhaustiveness. */
export type BurstErrorCode =
  | GeneralErrorCode
  | RemoteErrorCode
  | TimeoutErrorCode
  | WorkerCrashErrorCode
  | OutOfMemoryErrorCode
  | SerializationErrorCode
  | PackagingErrorCode
  | IntegrityErrorCode
  | ConfigErrorCode
  | WaitTimeoutErrorCode
  | CancelledErrorCode
  | StorageErrorCode
  | InvocationErrorCode
  | RuntimeMissingErrorCode
  | PartitionErrorCode
  | PrimitiveErrorCode
  | UpstreamErrorCode;

type Owned<Codes extends string, Class extends string> = { [C in Codes]: Class };
/** Which class owns which code; a code in two unions becomes `never` here and the table below fails to compile. */
type Owners = Owned<GeneralErrorCode, 'BurstError'> &
  Owned<RemoteErrorCode, 'RemoteError'> &
  Owned<TimeoutErrorCode, 'TimeoutError'> &
  Owned<WorkerCrashErrorCode, 'WorkerCrashError'> &
  Owned<OutOfMemoryErrorCode, 'OutOfMemoryError'> &
  Owned<SerializationErrorCode, 'SerializationError'> &
  Owned<PackagingErrorCode, 'PackagingError'> &
  Owned<IntegrityErrorCode, 'IntegrityError'> &
  Owned<ConfigErrorCode, 'ConfigError'> &
  Owned<WaitTimeoutErrorCode, 'WaitTimeoutError'> &
  Owned<'CANCELLED', 'CancelledError'> &
  Owned<MaxFailuresErrorCode, 'MaxFailuresError'> &
  Owned<StorageOwnErrorCode, 'StorageError'> &
  Owned<NoSuchBucketErrorCode, 'NoSuchBucketError'> &
  Owned<NoSuchKeyErrorCode, 'NoSuchKeyError'> &
  Owned<JobNotFoundErrorCode, 'JobNotFoundError'> &
  Owned<StorageAuthErrorCode, 'StorageAuthError'> &
  Owned<InvalidKeyErrorCode, 'InvalidKeyError'> &
  Owned<StorageUnavailableErrorCode, 'StorageUnavailableError'> &
  Owned<MalformedRecordErrorCode, 'MalformedRecordError'> &
  Owned<InvocationErrorCode, 'InvocationError'> &
  Owned<RuntimeMissingErrorCode, 'RuntimeMissingError'> &
  Owned<PartitionErrorCode, 'PartitionError'> &
  Owned<PrimitiveErrorCode, 'PrimitiveError'> &
  Owned<UpstreamErrorCode, 'UpstreamError'>;

/** The class whose instances carry each code (by class name): every code, exactly once. */
export const ERROR_CODE_CLASS: { readonly [C in BurstErrorCode]: Owners[C] } = {
  BAD_CALL: 'BurstError',
  BAD_REQUEST: 'BurstError',
  CHECK_FAILED: 'BurstError',
  CLIENT_ALIVE: 'BurstError',
  CLIENT_LOST: 'BurstError',
  DEPLOY_FAILED: 'BurstError',
  INTERNAL: 'BurstError',
  NO_IMAGE_BUILDER: 'BurstError',
  NO_SUCH_JOB: 'BurstError',
  RESULT_NOT_STORED: 'BurstError',
  RUNTIME_BUILD: 'BurstError',
  RUNTIME_DEPLOY: 'BurstError',
  SUBMIT_REJECTED: 'BurstError',
  VERSION_MISMATCH: 'BurstError',
  REMOTE_ERROR: 'RemoteError',
  TIMEOUT: 'TimeoutError',
  WORKER_CRASH: 'WorkerCrashError',
  OUT_OF_MEMORY: 'OutOfMemoryError',
  SERIALIZATION: 'SerializationError',
  PACKAGING: 'PackagingError',
  INTEGRITY: 'IntegrityError',
  CONFIG: 'ConfigError',
  WAIT_TIMEOUT: 'WaitTimeoutError',
  CANCELLED: 'CancelledError',
  MAX_FAILURES: 'MaxFailuresError',
  BUCKET_NOT_EMPTY: 'StorageError',
  BUCKET_TAKEN: 'StorageError',
  CHANGED_DURING_READ: 'StorageError',
  FS_ERROR: 'StorageError',
  INVALID_BUCKET: 'StorageError',
  INVALID_EXPIRY: 'StorageError',
  INVALID_JSON: 'StorageError',
  INVALID_RANGE: 'StorageError',
  NO_OBJECTS_MATCH: 'StorageError',
  NO_SPACE: 'StorageError',
  NO_SUCH_FILE: 'StorageError',
  NOT_SUPPORTED: 'StorageError',
  RESULT_STORAGE_UNREACHABLE: 'StorageError',
  RESULT_STORAGE_FAILED: 'StorageError',
  S3_ERROR: 'StorageError',
  STORAGE: 'StorageError',
  STORAGE_TIMEOUT: 'StorageError',
  TOO_MANY_PARTS: 'StorageError',
  NO_SUCH_BUCKET: 'NoSuchBucketError',
  NO_SUCH_KEY: 'NoSuchKeyError',
  JOB_DELETED: 'JobNotFoundError',
  STORAGE_AUTH: 'StorageAuthError',
  INVALID_KEY: 'InvalidKeyError',
  STORAGE_UNAVAILABLE: 'StorageUnavailableError',
  MALFORMED_RECORD: 'MalformedRecordError',
  INVOKE_FAILED: 'InvocationError',
  RUNTIME_MISSING: 'RuntimeMissingError',
  EMPTY_PREFIX: 'PartitionError',
  NO_MATCH: 'PartitionError',
  OBJECT_CHANGED: 'PartitionError',
  HTTP: 'PartitionError',
  HTTP_TIMEOUT: 'PartitionError',
  HTTP_REDIRECT: 'PartitionError',
  BAD_RANGES: 'PartitionError',
  TOO_MANY_PARTITIONS: 'PartitionError',
  PRIMITIVES_UNREACHABLE: 'PrimitiveError',
  PRIMITIVE_TIMEOUT: 'PrimitiveError',
  LOCK_NOT_HELD: 'PrimitiveError',
  UPSTREAM_FAILED: 'UpstreamError',
};

/** True when `code` is one of {@link BurstErrorCode}. */
export function isBurstErrorCode(code: unknown): code is BurstErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODE_CLASS, code);
}
