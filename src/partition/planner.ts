/**
 * The client side of partitioning: turns data inputs (object URIs, prefixes, globs, local paths,
 * HTTP(S) URLs) into one {@link PartitionSpec} per call, from listings and HEAD requests only; no
 * object body is read here. Every problem (a missing object, an empty prefix, a glob matching
 * nothing, a bad option) is a typed error before anything is invoked.
 */
import { ConfigError, NoSuchKeyError } from '../errors.js';
import type { StorageConfig, StorageDriver } from '../storage/types.js';
import { driverForScheme, formatStorageUri, type UriDefaults } from '../storage/uri.js';
import { builtinSpans, chunkCount, userSpans, validatePartitionOptions, type ChunkPlan } from './chunking.js';
import { PartitionError } from './errors.js';
import { parseInput, picomatch, type ParsedInput } from './inputs.js';
import type { ByteSpan, ObjectRef, PartitionOptions, PartitionSpec } from './types.js';

export { isPartitionInput } from './inputs.js';

/** What the planner needs from its caller. */
export interface PlanContext {
  /** The executor's storage: used for URIs of its own scheme (e.g. `fs://` with the default fs store). */
  storage: StorageDriver;
  /** How drivers for other schemes are created (endpoints, credentials, instances to reuse). */
  uriDefaults?: UriDefaults;
}

/** An object found by the planner, with what a worker needs to reach it. */
interface Found extends ObjectRef {
  storage?: StorageConfig;
  /** Its bytes can be read by range (always for storage; for HTTP when the server says so). */
  splittable: boolean;
}

/** HEAD requests (or probes) in flight at once when an input list names many objects. */
const CONCURRENCY = 16;

/** Drivers by scheme for one plan; closes those it created. */
class Drivers {
  private readonly made = new Map<string, Promise<StorageDriver>>();
  constructor(private readonly context: PlanContext) {}

  get(scheme: string): Promise<StorageDriver> {
    const given = this.context.uriDefaults?.drivers?.[scheme];
    if (given) return Promise.resolve(given);
    if (scheme !== 'file' && this.context.storage.name === scheme) return Promise.resolve(this.context.storage);
    let driver = this.made.get(scheme);
    if (!driver) {
      driver = driverForScheme(scheme, this.context.uriDefaults);
      this.made.set(scheme, driver);
    }
    return driver;
  }

  async close(): Promise<void> {
    await Promise.all([...this.made.values()].map(async (d) => (await d.catch(() => undefined))?.close?.()));
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

async function listObjects(
  driver: StorageDriver,
  scheme: string,
  bucket: string,
  prefix: string,
  keep: (key: string) => boolean,
  max: number,
): Promise<Found[]> {
  const found: Found[] = [];
  for await (const entry of driver.list(bucket, prefix)) {
    if ('prefix' in entry || entry.key.endsWith('/') || !keep(entry.key)) continue; // skip "folder" markers
    // Stop a listing far larger than expected before it fills memory.
    if (found.length >= max) throw tooMany(found.length + 1, max, 'objects');
    const { key, size, etag } = entry;
    found.push({
      uri: formatStorageUri({ scheme, bucket, key }),
      bucket,
      key,
      size,
      ...(etag === undefined ? {} : { etag }),
      storage: driver.config,
      splittable: true,
    });
  }
  return found;
}

async function expandStorage(
  input: Extract<ParsedInput, { kind: 'storage' }>,
  drivers: Drivers,
  max: number,
): Promise<Found[]> {
  const { scheme, bucket, key, glob } = input;
  const driver = await drivers.get(scheme);
  if (glob !== undefined) {
    const match = picomatch()(glob, { dot: true });
    const found = await listObjects(driver, scheme, bucket, key, match, max);
    if (found.length === 0) {
      throw new PartitionError(
        'NO_MATCH',
        `glob ${JSON.stringify(input.input)} matched no object (listed prefix ${JSON.stringify(key)} of bucket ${JSON.stringify(bucket)})`,
        {
          uri: input.input,
          bucket,
        },
      );
    }
    return found;
  }
  if (key === '' || key.endsWith('/')) {
    const found = await listObjects(driver, scheme, bucket, key, () => true, max);
    if (found.length === 0) throw emptyPrefix(input.input, bucket, key);
    return found;
  }
  try {
    const info = await driver.head(bucket, key);
    const etag = info.etag;
    return [
      {
        uri: formatStorageUri({ scheme, bucket, key }),
        bucket,
        key,
        size: info.size,
        ...(etag === undefined ? {} : { etag }),
        storage: driver.config,
        splittable: true,
      },
    ];
  } catch (err) {
    if (!(err instanceof NoSuchKeyError)) throw err;
    // Not an object: maybe a folder written without its trailing "/" (a local folder, an S3 "folder").
    const found = await listObjects(driver, scheme, bucket, `${key}/`, () => true, max);
    if (found.length === 0) throw err;
    return found;
  }
}

function emptyPrefix(input: string, bucket: string, prefix: string): PartitionError {
  const what =
    prefix === ''
      ? `bucket ${JSON.stringify(bucket)}`
      : `prefix ${JSON.stringify(prefix)} of bucket ${JSON.stringify(bucket)}`;
  return new PartitionError('EMPTY_PREFIX', `${JSON.stringify(input)} names no object (${what} is empty)`, {
    uri: input,
    bucket,
  });
}

async function expand(input: ParsedInput, drivers: Drivers, plan: ChunkPlan): Promise<Found[]> {
  if (input.kind === 'storage') return expandStorage(input, drivers, plan.maxCalls);
  // node:http/https load only for an http(s) input, not when the package is imported.
  const { probeHttp } = await import('./http.js');
  const { size, ranges, etag } = await probeHttp(input.url, plan.http);
  return [{ uri: input.input, bucket: '', key: '', size, ...(etag === undefined ? {} : { etag }), splittable: ranges }];
}

function inputList(inputs: string | string[]): string[] {
  if (typeof inputs === 'string') return [inputs];
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new ConfigError('data inputs must be a URI or path string or a non-empty array of them');
  return inputs;
}

async function spansOf(object: Found, plan: ChunkPlan): Promise<{ spans: ByteSpan[]; newline: string | null }> {
  if (plan.partitioner && object.splittable) {
    const { storage: _storage, splittable: _splittable, ...ref } = object;
    return { spans: await userSpans(ref, plan.partitioner), newline: null };
  }
  return {
    spans: builtinSpans(object.size, plan, chunkCount(object.size, plan, object.splittable)),
    newline: plan.newline,
  };
}

/**
 * Plans the partitions of a map over data: one spec per chunk, objects in input order (a prefix or
 * glob in key order), chunks in byte order.
 *
 * @throws ConfigError for invalid options or inputs.
 * @throws NoSuchKeyError / NoSuchBucketError for a missing object or bucket.
 * @throws ConfigError when the plan would hold more than `maxCalls` calls.
 * @throws PartitionError `EMPTY_PREFIX`, `NO_MATCH`, `HTTP`, `HTTP_TIMEOUT`, `HTTP_REDIRECT`, `BAD_RANGES`.
 * @example
 * ```ts
 * const specs = await planPartitions('s3://logs/2019/', { objChunkSize: 64 * 2 ** 20 }, { storage });
 * ```
 */
export async function planPartitions(
  inputs: string | string[],
  options: PartitionOptions,
  context: PlanContext,
): Promise<PartitionSpec[]> {
  const plan = validatePartitionOptions(options);
  const parsed = inputList(inputs).map(parseInput);
  const drivers = new Drivers(context);
  try {
    const objects = (await mapLimit(parsed, CONCURRENCY, (p) => expand(p, drivers, plan))).flat();
    if (objects.length > plan.maxCalls) throw tooMany(objects.length, plan.maxCalls, 'objects'); // many inputs, each under the limit
    if (!plan.partitioner) {
      const total = objects.reduce((n, o) => n + chunkCount(o.size, plan, o.splittable), 0);
      if (total > plan.maxCalls) throw tooMany(total, plan.maxCalls, 'calls');
    }
    const specs: PartitionSpec[] = [];
    for (const [objectIndex, object] of objects.entries()) {
      const { spans, newline } = await spansOf(object, plan);
      if (specs.length + spans.length > plan.maxCalls)
        throw tooMany(specs.length + spans.length, plan.maxCalls, 'calls');
      const { uri, bucket, key, size, etag, storage } = object;
      for (const [part, span] of spans.entries()) {
        specs.push({
          uri,
          ...(storage === undefined ? {} : { storage }),
          bucket,
          key,
          part,
          totalParts: spans.length,
          start: span.start,
          end: span.end,
          size,
          ...(etag === undefined ? {} : { etag }),
          newline,
          objectIndex,
          ...(storage === undefined ? { http: plan.http } : {}),
        });
      }
    }
    return specs;
  } finally {
    await drivers.close();
  }
}

function tooMany(n: number, max: number, what: string): ConfigError {
  const more = what === 'objects' ? `name ${n} objects (one call or more each)` : `make ${n} calls`;
  return new ConfigError(
    `the data inputs would ${more}, more than maxCalls (${max}); if that is intended, raise it (map(fn, data, { maxCalls: ${Math.min(1_000_000, Math.max(n, max * 2))} }), at most 1000000), else use a larger objChunkSize or fewer inputs`,
    { keyPath: 'maxCalls' },
  );
}
