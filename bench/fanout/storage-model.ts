/**
 * The modelled S3 of the fan-out model: every request, from the client (over HTTP, s3-server.ts) or
 * from a simulated worker (in-process, {@link ModelledDriver}), passes `admit()`, which counts it by
 * kind and key class, refuses it with SlowDown when its prefix is over S3's request rate, and says
 * how long it should take (latency + bytes at the per-connection bandwidth).
 */
import { StorageUnavailableError } from '../../src/errors.ts';
import type {
  GetOptions,
  ListEntry,
  ListOptions,
  ObjectInfo,
  PutOptions,
  StorageBody,
  StorageDriver,
} from '../../src/storage/types.ts';
import { PARAMS, sample } from './params.ts';

export type Kind = 'PUT' | 'GET' | 'LIST' | 'HEAD' | 'DELETE';
export type Origin = 'client' | 'worker';

/** What a key is, from Burst's layout (src/job/layout.ts). */
export function keyClass(key: string): string {
  if (key.startsWith('burst/functions/')) return 'bundle';
  if (/^burst\/jobs\/[^/]+\/lease$/.test(key)) return 'lease';
  const m = /^burst\/jobs\/[^/]+\/[^/]+\/(job\.json|data|status-batches|status|output|claims)(\/|$)/.exec(key);
  if (m)
    return (
      ({ 'job.json': 'manifest', 'status-batches': 'status-batch', claims: 'claim' } as const)[m[1] as 'job.json'] ??
      (m[1] as string)
    );
  return 'other';
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Counters of one run. */
export interface StorageCounts {
  /** requests by origin, kind and key class: `client PUT status` → n */
  requests: Record<string, number>;
  slowDowns: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  /** LIST requests (pages) by second since reset, client only: the polling profile. */
  clientListsBySecond: number[];
  /** The busiest second of each prefix, `w:<prefix>` (writes) or `r:<prefix>` (reads): the headroom to SlowDown. */
  peakPerPrefix: Record<string, number>;
}

export class StorageModel {
  private buckets = new Map<string, Bucket>();
  private seconds = new Map<string, { second: number; n: number }>();
  counts: StorageCounts = StorageModel.empty();
  private t0 = Date.now();

  static empty(): StorageCounts {
    return { requests: {}, slowDowns: {}, bytesIn: 0, bytesOut: 0, clientListsBySecond: [], peakPerPrefix: {} };
  }

  reset(): void {
    this.counts = StorageModel.empty();
    this.buckets.clear();
    this.seconds.clear();
    this.t0 = Date.now();
  }

  /**
   * Admits one request: undefined when refused with SlowDown, else the ms it should take.
   * `key` is the object key, or the listing prefix for LIST.
   */
  admit(origin: Origin, kind: Kind, key: string, bytes = 0): number | undefined {
    const cls = keyClass(key);
    const label = `${origin} ${kind} ${cls}`;
    const write = kind === 'PUT' || kind === 'DELETE';
    const prefix = key.slice(0, key.lastIndexOf('/') + 1);
    const rate = write ? PARAMS.s3.writesPerPrefixPerS : PARAMS.s3.readsPerPrefixPerS;
    const id = `${write ? 'w' : 'r'}:${prefix}`;
    const now = Date.now();
    const b = this.buckets.get(id) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(id, b);
    if (b.tokens < 1) {
      this.counts.slowDowns[label] = (this.counts.slowDowns[label] ?? 0) + 1;
      return undefined;
    }
    b.tokens -= 1;
    const second = Math.floor(now / 1000);
    const sec = this.seconds.get(id);
    if (sec?.second === second) sec.n++;
    else this.seconds.set(id, { second, n: 1 });
    const n = this.seconds.get(id)?.n ?? 1;
    if (n > (this.counts.peakPerPrefix[id] ?? 0)) this.counts.peakPerPrefix[id] = n;
    this.counts.requests[label] = (this.counts.requests[label] ?? 0) + 1;
    if (origin === 'client' && kind === 'LIST') {
      const s = Math.floor((now - this.t0) / 1000);
      while (this.counts.clientListsBySecond.length <= s) this.counts.clientListsBySecond.push(0);
      this.counts.clientListsBySecond[s] = (this.counts.clientListsBySecond[s] ?? 0) + 1;
    }
    const latency = sample(kind === 'LIST' ? PARAMS.s3.list : write ? PARAMS.s3.put : PARAMS.s3.get);
    return latency + (bytes / PARAMS.s3.bytesPerSecondPerConnection) * 1000;
  }

  /** Records the bytes of a request once known (for reads, after the object was found). */
  traffic(direction: 'in' | 'out', bytes: number): void {
    if (direction === 'in') this.counts.bytesIn += bytes;
    else this.counts.bytesOut += bytes;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Tries of one request on SlowDown, and the backoff, as the AWS SDK's standard retry mode does. */
const MAX_ATTEMPTS = 5;
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;

/**
 * A storage driver for one simulated execution environment: the real fs driver underneath, every request charged
 * to the model, SlowDown retried with the AWS SDK's standard backoff (full jitter, 5 attempts), then
 * a StorageUnavailableError (which the worker's `withPatience` waits out, as on S3).
 */
export function modelledDriver(inner: StorageDriver, model: StorageModel, env: number): StorageDriver {
  async function charge(kind: Kind, key: string, bytes: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const ms = model.admit('worker', kind, key, bytes);
      if (ms !== undefined) return sleep(ms);
      if (attempt + 1 >= MAX_ATTEMPTS)
        throw new StorageUnavailableError(`SlowDown on ${key} after ${MAX_ATTEMPTS} attempts (fan-out model)`, { key });
      await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt));
    }
  }
  const size = (body: StorageBody): number =>
    typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : 0;
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    // Per environment, so what a worker process keeps of a job (src/worker/job-cache.ts) is per environment too.
    config: { ...inner.config, options: { ...inner.config.options, modelEnvironment: env } },
    async put(bucket: string, key: string, body: StorageBody, options?: PutOptions) {
      const n = size(body);
      await charge('PUT', key, n);
      model.traffic('in', n);
      return inner.put(bucket, key, body, options);
    },
    async get(bucket: string, key: string, options?: GetOptions) {
      const n = options?.range?.length ?? 0;
      await charge('GET', key, n);
      const bytes = await inner.get(bucket, key, options);
      model.traffic('out', bytes.byteLength);
      return bytes;
    },
    async getStream(bucket: string, key: string, options?: GetOptions) {
      await charge('GET', key, 0);
      return inner.getStream(bucket, key, options);
    },
    async head(bucket: string, key: string): Promise<ObjectInfo> {
      await charge('HEAD', key, 0);
      return inner.head(bucket, key);
    },
    async exists(bucket: string, key: string) {
      await charge('HEAD', key, 0);
      return inner.exists(bucket, key);
    },
    async *list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry> {
      let n = 0;
      for await (const e of inner.list(bucket, prefix, options)) {
        if (n++ % 1000 === 0) await charge('LIST', prefix ?? '', 0);
        yield e;
      }
      if (n === 0) await charge('LIST', prefix ?? '', 0);
    },
    async delete(bucket: string, keys: Iterable<string> | AsyncIterable<string>) {
      const all: string[] = [];
      for await (const k of keys) all.push(k);
      for (let i = 0; i < all.length; i += 1000) await charge('DELETE', all[i] as string, 0);
      return inner.delete(bucket, all);
    },
    createBucket: (b) => inner.createBucket(b),
    deleteBucket: (b) => inner.deleteBucket(b),
    bucketExists: (b) => inner.bucketExists(b),
    close: () => inner.close?.() ?? Promise.resolve(),
  };
}
