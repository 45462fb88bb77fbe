/**
 * Errors of remote backends that fail before any call runs: an HTTP service (knative, cloudrun,
 * code_engine) that refused an invocation or could not be reached, named by URL and HTTP status; and
 * a serverless runtime (aws_lambda) that was never deployed. Kept apart from the drivers so the
 * public API can export them without loading a backend.
 */
import { BurstError, type BurstErrorOptions } from '../errors.js';
import type { InvocationErrorCode, RuntimeMissingErrorCode } from '../error-codes.js';

/** A service refused the invocation (a 4xx other than 429) or stayed unreachable past the retry deadline. */
export class InvocationError extends BurstError {
  declare readonly code: InvocationErrorCode;
  /** The URL posted to (without any user:password part). */
  readonly url: string;
  /** The HTTP status, when the service answered. */
  readonly status?: number;

  constructor(message: string, options: BurstErrorOptions & { url: string; status?: number }) {
    const { url, status, ...rest } = options;
    super('INVOKE_FAILED', message, rest);
    this.url = url;
    if (status !== undefined) this.status = status;
  }
}

/** The worker function of a runtime does not exist: deploy it first. */
export class RuntimeMissingError extends BurstError {
  declare readonly code: RuntimeMissingErrorCode;
  /** The Lambda function that was not found. */
  readonly functionName: string;
  constructor(functionName: string, message: string, options: { cause?: unknown; jobId?: string } = {}) {
    super('RUNTIME_MISSING', message, { ...options, backend: 'aws_lambda' });
    this.functionName = functionName;
  }
}

/** `url` without credentials, for messages. */
export function safeUrl(url: URL | string): string {
  const u = new URL(String(url));
  u.username = '';
  u.password = '';
  return u.toString();
}
