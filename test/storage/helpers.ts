/**
 * Helpers for the storage tests: unique bucket names, collecting listings and streams, assertions on
 * Burst errors, and a body stream whose progress the test controls (no timing involved).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ListEntry, StorageDriver } from '../../src/storage/types.js';

/** A bucket name valid everywhere (S3 rules: lowercase, digits, hyphens, 3-63 characters). */
export function uniqueBucket(tag = 'test'): string {
  return `burst-${tag}-${randomBytes(5).toString('hex')}`;
}

/** All entries of a listing, as keys (objects) and `prefix/` strings tagged `P:`. */
export async function listNames(
  driver: StorageDriver,
  bucket: string,
  prefix?: string,
  options?: { delimiter?: string; startAfter?: string },
): Promise<string[]> {
  const out: string[] = [];
  for await (const e of driver.list(bucket, prefix, options)) out.push(entryName(e));
  return out;
}

export function entryName(e: ListEntry): string {
  return 'prefix' in e ? `P:${e.prefix}` : e.key;
}

/** Reads a stream to one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Asserts that `promise` rejects with a Burst error of class `cls` whose message includes each of `parts`. */
export async function rejectsWith(
  promise: Promise<unknown> | (() => Promise<unknown>),
  cls: abstract new (...args: never[]) => Error,
  parts: string[] = [],
): Promise<Error> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected a ${cls.name}, but nothing was thrown`);
  assert.ok(
    caught instanceof cls,
    `expected a ${cls.name}, got ${String((caught as Error)?.name)}: ${String((caught as Error)?.message)}`,
  );
  for (const p of parts)
    assert.ok(
      (caught as Error).message.includes(p),
      `message ${JSON.stringify((caught as Error).message)} should include ${JSON.stringify(p)}`,
    );
  return caught as Error;
}

/** Deterministic pseudo-random bytes (so failures can be reproduced). */
export function patternBytes(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A body stream that sends `first`, then waits until `release()` before sending `rest`. `sentFirst`
 * resolves once the consumer has pulled `first`, so the test knows the upload is half done.
 */
export function gatedStream(
  first: Buffer,
  rest: Buffer,
): { stream: Readable; sentFirst: Promise<void>; release: () => void; fail: (err: Error) => void } {
  let release!: () => void;
  let fail!: (err: Error) => void;
  const gate = new Promise<void>((res, rej) => {
    release = res;
    fail = rej;
  });
  gate.catch(() => undefined);
  let markSent!: () => void;
  const sentFirst = new Promise<void>((res) => (markSent = res));
  async function* gen(): AsyncGenerator<Buffer> {
    yield first;
    markSent();
    await gate;
    yield rest;
  }
  return { stream: Readable.from(gen(), { objectMode: false }), sentFirst, release, fail };
}

/** Deletes every object of the bucket and the bucket itself; ignores a missing bucket. */
export async function dropBucket(driver: StorageDriver, bucket: string): Promise<void> {
  if (!(await driver.bucketExists(bucket))) return;
  const keys: string[] = [];
  for await (const e of driver.list(bucket)) if (!('prefix' in e)) keys.push(e.key);
  await driver.delete(bucket, keys);
  await driver.deleteBucket(bucket);
}
