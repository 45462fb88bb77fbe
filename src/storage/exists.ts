/** `exists` for drivers whose cheapest probe is a HEAD: a missing key is `false`, anything else rethrown. */
import { NoSuchKeyError } from '../errors.js';

export async function existsByHead(head: () => Promise<unknown>): Promise<boolean> {
  try {
    await head();
    return true;
  } catch (err) {
    if (err instanceof NoSuchKeyError) return false;
    throw err;
  }
}
