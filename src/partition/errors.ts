/**
 * The partitioner's error: inputs that name no data, objects that changed between planning and
 * reading, HTTP servers that do not behave. Missing objects and buckets keep the storage layer's own
 * {@link NoSuchKeyError} / {@link NoSuchBucketError}.
 */
import { redactUrl } from '../redact.js';
import { BurstError, type BurstErrorOptions } from '../errors.js';

/** Codes of {@link PartitionError}. */
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

/** An input or chunk could not be planned or read; `uri` names the object or input at fault. */
export class PartitionError extends BurstError {
  /** The input or object URI at fault, without credentials (a presigned URL's signature is `***`). */
  uri?: string;
  constructor(code: PartitionErrorCode, message: string, options: BurstErrorOptions & { uri?: string } = {}) {
    const { uri, ...rest } = options;
    super(code, message, rest);
    if (uri !== undefined) this.uri = redactUrl(uri);
  }
}

/**
 * A URI for messages: HTTP(S) URLs lose their query and credentials (a presigned URL's query is a
 * secret), and long URIs are shortened.
 */
export function shownUri(uri: string): string {
  let shown = uri;
  if (/^https?:\/\//i.test(uri)) {
    try {
      const u = new URL(uri);
      shown = `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
    } catch {
      shown = uri.replace(/[?#].*$/s, '');
    }
  }
  return JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}…` : shown);
}
