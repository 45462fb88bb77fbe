/**
 * Maps AWS SDK errors to Burst storage errors. S3 names errors by code in the XML body, except for
 * HEAD requests, which have no body: there only the HTTP status tells what went wrong.
 */
import {
  BurstError,
  NoSuchBucketError,
  NoSuchKeyError,
  StorageAuthError,
  StorageError,
  StorageUnavailableError,
} from '../../errors.js';
import { quoteName } from '../keys.js';

/** What an SDK error looks like to us (no SDK types needed). */
interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $fault?: 'client' | 'server';
  $retryable?: unknown;
}

/** Where the failed request went, for messages. */
export interface S3ErrorContext {
  op: string;
  bucket?: string;
  key?: string;
  /** The endpoint URL, or a description of the AWS endpoint. */
  endpoint: string;
  /** Strings that must never appear in a message (the secret key, a session token). */
  secrets: string[];
}

const AUTH_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidSecurity',
  'AllAccessDisabled',
  'AccountProblem',
  'CredentialsProviderError',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const THROTTLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequests',
  'ServiceUnavailable',
]);

/** The S3 error code (or the Node error code) of an SDK error. */
export function errorCode(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape;
  const nested = Array.isArray(e.errors) ? ((e.errors[0] ?? {}) as SdkErrorShape) : undefined;
  return e.Code ?? (typeof e.code === 'string' ? e.code : undefined) ?? nested?.code ?? e.name ?? 'UnknownError';
}

/** The HTTP status of an SDK error, when the server answered. */
export function httpStatus(err: unknown): number | undefined {
  return ((err ?? {}) as SdkErrorShape).$metadata?.httpStatusCode;
}

/** Removes every secret from a text (server messages never hold one, but a proxy's might). */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

function where(ctx: S3ErrorContext): string {
  if (ctx.key !== undefined && ctx.bucket !== undefined)
    return `object ${quoteName(ctx.key)} in bucket ${quoteName(ctx.bucket)}`;
  if (ctx.bucket !== undefined) return `bucket ${quoteName(ctx.bucket)}`;
  return 'the store';
}

/**
 * A Burst error for a failed S3 request. `notFound` says what a bare 404 means for this operation
 * (HEAD object cannot tell a missing key from a missing bucket; the caller resolves that).
 */
export function mapS3Error(
  err: unknown,
  ctx: S3ErrorContext,
  notFound: 'key' | 'bucket' | 'none' = 'none',
): BurstError {
  if (err instanceof BurstError) return err;
  const code = errorCode(err);
  const status = httpStatus(err);
  const attempts = ((err ?? {}) as SdkErrorShape).$metadata?.attempts;
  const detail = scrub(((err ?? {}) as SdkErrorShape).message || code, ctx.secrets);
  const context = {
    cause: err,
    ...(ctx.bucket === undefined ? {} : { bucket: ctx.bucket }),
    ...(ctx.key === undefined ? {} : { key: ctx.key }),
  };
  if (code === 'NoSuchBucket' || (notFound === 'bucket' && status === 404))
    return new NoSuchBucketError(ctx.bucket ?? '?', context);
  if (code === 'NoSuchKey' || (notFound === 'key' && status === 404))
    return new NoSuchKeyError(ctx.bucket ?? '?', ctx.key ?? '?', context);
  if (AUTH_CODES.has(code) || status === 403 || status === 401) {
    const why =
      code === 'CredentialsProviderError'
        ? 'no S3 credentials were found (set accessKeyId and secretAccessKey, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile)'
        : `${code === 'UnknownError' || code === 'Forbidden' ? `HTTP ${status ?? 403}` : code} (check the access key id and secret key, and the bucket's permissions)`;
    return new StorageAuthError(`${ctx.op} of ${where(ctx)} at ${ctx.endpoint} was refused: ${why}`, context);
  }
  const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
  if (status === undefined && NETWORK_CODES.has(code)) {
    return new StorageUnavailableError(
      `storage endpoint ${ctx.endpoint} is unreachable (${code})${tries}: ${detail}`,
      context,
    );
  }
  if (THROTTLE_CODES.has(code) || status === 429 || status === 503 || (status !== undefined && status >= 500)) {
    return new StorageUnavailableError(
      `storage endpoint ${ctx.endpoint} answered ${code} (HTTP ${status ?? '?'})${tries} to ${ctx.op} of ${where(ctx)}: ${detail}`,
      context,
    );
  }
  if (code === 'BucketNotEmpty')
    return new StorageError('BUCKET_NOT_EMPTY', `bucket ${quoteName(ctx.bucket ?? '?')} is not empty`, context);
  if (code === 'BucketAlreadyExists') {
    return new StorageError(
      'BUCKET_TAKEN',
      `bucket ${quoteName(ctx.bucket ?? '?')} already exists and belongs to another account`,
      context,
    );
  }
  if (code === 'InvalidBucketName')
    return new StorageError('INVALID_BUCKET', `invalid bucket name ${quoteName(ctx.bucket ?? '')}: ${detail}`, context);
  return new StorageError(
    'S3_ERROR',
    `${ctx.op} of ${where(ctx)} at ${ctx.endpoint} failed: ${code}${status ? ` (HTTP ${status})` : ''}: ${detail}`,
    context,
  );
}
