/**
 * Listing semantics shared by drivers that list by themselves (memory, fs): S3's rules for prefix,
 * startAfter and delimiter, applied to keys that arrive in {@link compareKeys} order.
 */
import { assertValidBucket, assertValidPrefix } from './keys.js';
import type { ListEntry, ListOptions } from './types.js';

/** Validated listing arguments. */
export interface ListQuery {
  bucket: string;
  prefix: string;
  delimiter: string | undefined;
  startAfter: string | undefined;
}

/** Validates the arguments of `list` (an empty delimiter means none, as in S3). */
export function listQuery(bucket: string, prefix: string | undefined, options: ListOptions | undefined): ListQuery {
  assertValidBucket(bucket);
  const p = prefix ?? '';
  assertValidPrefix(bucket, p);
  const delimiter = options?.delimiter || undefined;
  if (delimiter !== undefined) assertValidPrefix(bucket, delimiter, 'delimiter');
  const startAfter = options?.startAfter || undefined;
  if (startAfter !== undefined) assertValidPrefix(bucket, startAfter, 'startAfter');
  return { bucket, prefix: p, delimiter, startAfter };
}

/**
 * The common prefix a key rolls up into under `delimiter` (S3: the prefix plus everything up to and
 * including the first delimiter after it), or undefined when the key is listed as itself.
 */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/**
 * Turns entries (already filtered by prefix and startAfter, in key order) into list entries, rolling
 * keys that share a common prefix into one {@link PrefixEntry}. Input prefix entries (a driver that
 * rolled up a whole folder itself) pass through, merged with equal neighbours.
 */
export async function* groupByDelimiter(
  entries: AsyncIterable<ListEntry> | Iterable<ListEntry>,
  query: ListQuery,
): AsyncGenerator<ListEntry> {
  let lastPrefix: string | undefined;
  for await (const entry of entries) {
    const common = 'prefix' in entry ? entry.prefix : commonPrefixOf(entry.key, query.prefix, query.delimiter);
    if (common === undefined) {
      yield entry;
    } else if (common !== lastPrefix) {
      lastPrefix = common;
      yield { prefix: common };
    }
  }
}
