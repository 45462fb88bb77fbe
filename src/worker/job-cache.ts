/**
 * What a warm worker keeps of the jobs it ran: a reused Lambda environment or a long-lived
 * `burst worker serve` runs many invocations of one job, and each read the job's manifest and a
 * byte range of its data object. Kept here for a minute, a fan-out of 10,000 one-call
 * invocations reads them once per environment instead of once per call (bench/fanout measured 2 of
 * the 5 storage requests per call going to them). Both objects are written once, before the first
 * invocation, and never change; the short life bounds what a worker runs of a job deleted meanwhile.
 */
import type { StorageDriver } from '../storage/types.js';

/** How long a job's objects are kept. */
const KEEP_MS = 60_000;
/** Objects kept at most (a worker keeps a handful; a model of many environments in one process, more). */
const MAX_OBJECTS = 4096;
/** Data objects up to this size are read whole once, instead of a range per invocation. */
export const WHOLE_DATA_BYTES = 1024 * 1024;

const kept = new Map<string, { at: number; bytes: Promise<Uint8Array> }>();

/**
 * The object's bytes, from this process's copy when one was read less than {@link KEEP_MS} ago.
 * A failed read is not kept.
 */
export function keptObject(
  storage: StorageDriver,
  bucket: string,
  key: string,
  read: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const id = `${JSON.stringify(storage.config)}\n${bucket}\n${key}`;
  const now = Date.now();
  const hit = kept.get(id);
  if (hit && now - hit.at < KEEP_MS) return hit.bytes;
  for (const [k, v] of kept) if (now - v.at >= KEEP_MS || kept.size >= MAX_OBJECTS) kept.delete(k);
  const bytes = read();
  kept.set(id, { at: now, bytes });
  bytes.catch(() => {
    if (kept.get(id)?.bytes === bytes) kept.delete(id);
  });
  return bytes;
}

/** Forgets this process's copies of the objects (a job that failed to load is read afresh next time). */
export function forgetKept(storage: StorageDriver, bucket: string, keys: readonly string[]): void {
  for (const key of keys) kept.delete(`${JSON.stringify(storage.config)}\n${bucket}\n${key}`);
}
