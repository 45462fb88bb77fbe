/**
 * Content hashing of function bundles, shared by the client (which names a bundle by its hash) and the
 * worker (which checks the code it received against that name). Only `node:crypto`: safe for workers.
 */
import { createHash } from 'node:crypto';

/** A bundle hash: 64 lowercase hex digits of sha256. */
export const BUNDLE_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** sha256 of `code` (UTF-8 when a string), as lowercase hex. */
export function sha256Hex(code: Uint8Array | string): string {
  return createHash('sha256').update(code).digest('hex');
}
