/**
 * The result cache (`cache: true`): a call whose function bundle, input, `extraArgs` and environment
 * are the same as an earlier successful call's gets that call's stored result, and is never sent to
 * the backend.
 *
 * The client does all of it, before submitting and after each result: it computes each call's key
 * from what it is about to send (SHA-256 over the bundle hash, the encoded input, the encoded
 * `extraArgs` and the environment), reads `burst/cache/<bundle>/<key>` from its own storage, and
 * writes entries for calls that succeeded. Workers never read or write the cache, so nothing remote
 * chooses a key, and an entry is checked against its key, size and SHA-256 before it is used (a
 * planted, moved or cut entry is a miss, and the call runs). Failed calls and streamed results
 * (which live under their job and go with `clean()`) are never cached.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigError } from '../errors.js';
import { keys } from '../job/layout.js';
import { INLINE_OUTPUT_BYTES, encodeStatus } from '../job/status.js';
import { decode, encode } from '../serialize/index.js';
import type { StorageDriver } from '../storage/types.js';
import type { CallRecord } from '../worker/protocol.js';
import { storedResultInfo } from '../worker/stream-result.js';

/** Version of the key derivation and entry format: a change makes every older entry a miss. */
export const CACHE_FORMAT = 1;

const FETCH_CONCURRENCY = 16;

/** What a job's calls are cached by, besides their inputs. */
export interface CacheScope {
  /** Environment variables the calls run with (the map's `env` over the backend section's `env`). */
  env: Record<string, string>;
}

/** Checks a `cache` option (map or executor); undefined when not set. */
export function checkCacheOption(value: unknown, keyPath = 'cache'): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new ConfigError(`${keyPath} must be true or false, got ${JSON.stringify(value) ?? typeof value}`, {
    keyPath,
  });
}

/**
 * The environment that is part of every key: the backend section's `env` (variables its workers
 * are started with, e.g. `slurm.env`) under the map's `env`. Sorted, so key order does not matter.
 */
export function cacheEnv(raw: Record<string, unknown>, backend: string, mapEnv: Record<string, string>): CacheScope {
  const section = raw[backend];
  const backendEnv =
    typeof section === 'object' && section !== null && typeof (section as { env?: unknown }).env === 'object'
      ? ((section as { env: Record<string, string> }).env ?? {})
      : {};
  return { env: { ...backendEnv, ...mapEnv } };
}

const sha256 = (...parts: Array<string | Uint8Array>): string => {
  const h = createHash('sha256');
  for (const p of parts) {
    // Length-prefixed, so no two different part lists hash the same bytes.
    const bytes = typeof p === 'string' ? Buffer.from(p) : p;
    h.update(`${bytes.length}:`);
    h.update(bytes);
  }
  return h.digest('hex');
};

/** The key of every call of a job: computed here, on the client, from what it sends. */
export function callKeys(
  functionHash: string,
  inputs: readonly unknown[],
  o: { hasArgs: boolean; args: unknown },
  scope: CacheScope,
): string[] {
  const env = Object.entries(scope.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const args = o.hasArgs ? sha256(encode(o.args, 'extraArgs')) : '-';
  const base = sha256(`burst-cache/${CACHE_FORMAT}`, functionHash, args, JSON.stringify(env));
  return inputs.map((input, i) => sha256(base, encode(input, `input[${i}]`)));
}

/** The bytes of an entry: a JSON header line that names its key, then the encoded result. */
export function encodeEntry(callKey: string, body: Uint8Array): Buffer {
  const header = { format: CACHE_FORMAT, key: callKey, size: body.length, sha256: sha256Hex(body) };
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]);
}

/** The encoded result of an entry, or undefined when it is not the entry of `callKey` intact. */
export function decodeEntry(callKey: string, bytes: Uint8Array): Uint8Array | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = buf.indexOf(10);
  if (nl < 0) return undefined;
  let header: { format?: unknown; key?: unknown; size?: unknown; sha256?: unknown };
  try {
    header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as typeof header;
  } catch {
    return undefined;
  }
  const body = buf.subarray(nl + 1);
  if (header.format !== CACHE_FORMAT || header.key !== callKey || header.size !== body.length) return undefined;
  return header.sha256 === sha256Hex(body) ? body : undefined;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes in flight, per executor, so a later map (or `close()`) sees every entry written. */
const inflight = new WeakMap<object, Set<Promise<void>>>();

/** Resolves once every cache entry this owner started writing is written (failures are dropped). */
export async function flushCacheWrites(owner: object): Promise<void> {
  const set = inflight.get(owner);
  if (set && set.size > 0) await Promise.all([...set]);
}

/** One job's view of the cache: which calls hit, and how to store the results of the others. */
export class JobCache {
  /** Encoded results of the calls that hit, by call id. */
  readonly hits = new Map<number, Uint8Array>();
  /** Entries found but refused (wrong key, size or hash): they were run instead. */
  rejected = 0;

  private constructor(
    private readonly owner: object,
    private readonly storage: StorageDriver,
    private readonly bucket: string,
    private readonly functionHash: string,
    private readonly keys: string[],
  ) {}

  /** Looks every call of a job up: one listing of the bundle's prefix, then a GET per entry found. */
  static async open(
    owner: object,
    storage: StorageDriver,
    bucket: string,
    functionHash: string,
    callKeyList: string[],
  ): Promise<JobCache> {
    await flushCacheWrites(owner);
    const cache = new JobCache(owner, storage, bucket, functionHash, callKeyList);
    const present = new Set<string>();
    for await (const e of storage.list(bucket, keys.cacheFunction(functionHash)))
      if ('key' in e) present.add(e.key.slice(e.key.lastIndexOf('/') + 1));
    const wanted = callKeyList.map((k, i) => [k, i] as const).filter(([k]) => present.has(k));
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < wanted.length) {
        const [k, i] = wanted[next++] as readonly [string, number];
        const bytes = await storage.get(bucket, keys.cacheEntry(functionHash, k)).catch(() => undefined);
        const body = bytes && decodeEntry(k, bytes);
        if (body) cache.hits.set(i, body);
        else if (bytes) cache.rejected++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, wanted.length) }, lane));
    return cache;
  }

  /** The call ids that missed, in order. */
  misses(callCount: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < callCount; i++) if (!this.hits.has(i)) out.push(i);
    return out;
  }

  /**
   * Stores a successful call's result (`raw` is its decoded value, to tell a streamed result, which
   * is not cached). The write runs in the background; a failed write only loses the entry.
   */
  store(callId: number, body: Uint8Array | undefined, raw: unknown): void {
    const k = this.keys[callId];
    if (k === undefined || body === undefined || this.hits.has(callId) || storedResultInfo(raw)) return;
    let set = inflight.get(this.owner);
    if (!set) inflight.set(this.owner, (set = new Set()));
    const write = this.storage
      .put(this.bucket, keys.cacheEntry(this.functionHash, k), encodeEntry(k, body))
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => set.delete(write));
    set.add(write);
  }

  /** Stores a result that came as a value (the localhost IPC channel). */
  storeValue(callId: number, value: unknown): void {
    if (this.hits.has(callId) || storedResultInfo(value)) return;
    let body: Uint8Array;
    try {
      body = encode(value, 'result');
    } catch {
      return;
    }
    this.store(callId, body, value);
  }

  /** The record of a call that hit: a success with `cached: true` in its stats, the result inline. */
  hitRecord(callId: number): CallRecord {
    const body = this.hits.get(callId) ?? new Uint8Array(0);
    const now = Date.now();
    return {
      callId,
      ok: true,
      attempt: 1,
      output: body,
      stats: {
        workerStart: now,
        fnStart: now,
        fnEnd: now,
        cold: false,
        bytesIn: 0,
        bytesOut: body.length,
        hostname: hostname(),
        pid: process.pid,
        cached: true,
      },
    };
  }

  /** The decoded value of a hit. */
  value(callId: number): unknown {
    return decode(this.hits.get(callId) ?? new Uint8Array(0), `cached result of call ${callId}`);
  }

  /**
   * Writes the status records of the hits under a storage-channel job (`status/<call>.1`, the result
   * inline or, when large, as `output/<call>.1`), so `burst jobs`, attach and the dashboard see them.
   */
  async writeStatuses(jobKey: string): Promise<void> {
    const ids = [...this.hits.keys()];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++] as number;
        const record = this.hitRecord(id);
        const body = record.output as Uint8Array;
        if (body.length > INLINE_OUTPUT_BYTES) {
          await this.storage.put(this.bucket, keys.output(jobKey, id, 1), body);
          delete record.output;
          record.outputStored = true;
        }
        const now = Date.now();
        await this.storage.put(this.bucket, keys.status(jobKey, id, 1), encodeStatus(record, now));
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, ids.length) }, lane));
  }
}
