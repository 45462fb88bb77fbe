/**
 * The partitioner's error: inputs that name no data, objects that changed between planning and
 * reading, HTTP servers that do not behave. Missing objects and buckets keep the storage layer's own
 * {@link NoSuchKeyError} / {@link NoSuchBucketError}.
 */
import { redactUrl } from '../redact.js';
import { BurstError, type BurstErrorOptions } from '../errors.js';
import type { PartitionErrorCode } from '../error-codes.js';

export type { PartitionErrorCode };

/** An input or chunk could not be planned or read; `uri` names the object or input at fault. */
export class PartitionError extends BurstError {
  declare readonly code: PartitionErrorCode;
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
