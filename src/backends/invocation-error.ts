/**
 * The error of an HTTP backend (knative, cloudrun, code_engine) whose service refused an invocation
 * or could not be reached: it names the URL and the HTTP status, so a wrong URL or token is obvious.
 */
import { BurstError, type BurstErrorOptions } from '../errors.js';

/** A service refused the invocation (a 4xx other than 429) or stayed unreachable past the retry deadline. */
export class InvocationError extends BurstError {
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

/** `url` without credentials, for messages. */
export function safeUrl(url: URL | string): string {
  const u = new URL(String(url));
  u.username = '';
  u.password = '';
  return u.toString();
}
