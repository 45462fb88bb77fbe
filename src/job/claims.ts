/**
 * A worker's claim, `claims/<attempt>.<first call>.<nonce>`: the call list it took ("0-9,12"),
 * written before it runs any of them. A client that attaches to a job whose client died re-runs only
 * the calls no worker claimed, so none runs twice.
 */
import { formatCallSpec, parseCallSpec } from '../worker/call-spec.js';
import { malformed, type RecordSource } from './record.js';

/** The bytes of a claim on `callIds`. */
export function encodeClaim(callIds: readonly number[]): string {
  return formatCallSpec(callIds);
}

/**
 * The call ids of a stored claim.
 * @throws MalformedRecordError naming the key when it is not a call list.
 */
export function decodeClaim(input: Uint8Array | string, source: RecordSource | string): number[] {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  try {
    return parseCallSpec(text);
  } catch (err) {
    throw malformed(source, 'claim', (err as Error).message, err);
  }
}
