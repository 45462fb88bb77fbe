/**
 * Splitting one object into byte ranges: by chunk size, by chunk count, by a user's partitioner, or
 * not at all; and validation of the options that choose how.
 */
import { ConfigError } from '../errors.js';
import { overlapsItself } from './align.js';
import { PartitionError, shownUri } from './errors.js';
import type { ByteSpan, ObjectRef, PartitionOptions } from './types.js';
import { HTTP_DEFAULTS, type HttpLimits } from './http-limits.js';

/** The most partitions one plan may hold (a plan is held in memory, one call each). */
export const MAX_PARTITIONS = 1_000_000;

/** The default of {@link PartitionOptions.maxCalls}. */
export const DEFAULT_MAX_CALLS = 100_000;

/** Validated partition options. */
export interface ChunkPlan {
  chunkSize?: number;
  chunkNumber?: number;
  newline: string | null;
  partitioner?: PartitionOptions['partitioner'];
  maxCalls: number;
  http: HttpLimits;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === null)
    return String(value);
  return typeof value;
}

function positiveInteger(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw new ConfigError(`${name} must be a positive integer, got ${shown(value)}`, { keyPath: name });
  }
  return value as number;
}

/**
 * Validates partition options with messages naming the option ("objChunkSize must be a positive
 * integer, got 0").
 *
 * @throws ConfigError on an invalid option.
 */
export function validatePartitionOptions(options: PartitionOptions = {}): ChunkPlan {
  if (typeof options !== 'object' || options === null) throw new ConfigError('partition options must be an object');
  const chunkSize = positiveInteger('objChunkSize', options.objChunkSize);
  const chunkNumber = positiveInteger('objChunkNumber', options.objChunkNumber);
  if (chunkSize !== undefined && chunkNumber !== undefined) {
    throw new ConfigError(`objChunkSize and objChunkNumber are exclusive, got both (${chunkSize} and ${chunkNumber})`, {
      keyPath: 'objChunkSize',
    });
  }
  const newline = options.objNewline === undefined ? '\n' : options.objNewline;
  if (newline !== null) {
    if (typeof newline !== 'string' || newline === '') {
      throw new ConfigError(`objNewline must be a non-empty string or null, got ${shown(newline)}`, {
        keyPath: 'objNewline',
      });
    }
    if (Buffer.from(newline).toString('utf8') !== newline || newline.includes('\uFFFD')) {
      throw new ConfigError(
        `objNewline must be valid Unicode text (no lone surrogates or U+FFFD), got ${JSON.stringify(newline)}`,
        { keyPath: 'objNewline' },
      );
    }
    if (overlapsItself(Buffer.from(newline))) {
      throw new ConfigError(
        `objNewline must not overlap itself (a prefix of it equal to a suffix, as in "\\n\\n"), got ${JSON.stringify(newline)}`,
        {
          keyPath: 'objNewline',
        },
      );
    }
  }
  const partitioner = options.partitioner;
  if (partitioner !== undefined && typeof partitioner !== 'function') {
    throw new ConfigError(`partitioner must be a function, got ${shown(partitioner)}`, { keyPath: 'partitioner' });
  }
  if (partitioner !== undefined && (chunkSize !== undefined || chunkNumber !== undefined)) {
    throw new ConfigError('partitioner replaces objChunkSize and objChunkNumber; give only one of them', {
      keyPath: 'partitioner',
    });
  }
  const maxCalls = positiveInteger('maxCalls', options.maxCalls) ?? DEFAULT_MAX_CALLS;
  if (maxCalls > MAX_PARTITIONS)
    throw new ConfigError(`maxCalls must be at most ${MAX_PARTITIONS} (a plan is held in memory), got ${maxCalls}`, {
      keyPath: 'maxCalls',
    });
  return {
    newline,
    maxCalls,
    http: httpLimits(options),
    ...(chunkSize === undefined ? {} : { chunkSize }),
    ...(chunkNumber === undefined ? {} : { chunkNumber }),
    ...(partitioner === undefined ? {} : { partitioner }),
  };
}

function httpLimits(options: PartitionOptions): HttpLimits {
  const hosts = options.httpRedirectHosts ?? [];
  if (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string' && /^[^\s/@]+$/.test(h))) {
    throw new ConfigError(
      `httpRedirectHosts must be an array of host names (optionally with :port), got ${shown(hosts)}`,
      { keyPath: 'httpRedirectHosts' },
    );
  }
  return {
    connectTimeout: positiveInteger('httpConnectTimeout', options.httpConnectTimeout) ?? HTTP_DEFAULTS.connectTimeout,
    headTimeout: positiveInteger('httpHeadTimeout', options.httpHeadTimeout) ?? HTTP_DEFAULTS.headTimeout,
    readTimeout: positiveInteger('httpReadTimeout', options.httpReadTimeout) ?? HTTP_DEFAULTS.readTimeout,
    redirectHosts: [...hosts],
  };
}

/** How many chunks the built-in splitter makes of an object of `size` bytes (-1: unknown size). */
export function chunkCount(size: number, plan: ChunkPlan, splittable: boolean): number {
  if (!splittable || size <= 0) return 1;
  if (plan.chunkSize !== undefined) return Math.ceil(size / plan.chunkSize);
  if (plan.chunkNumber !== undefined) return Math.min(plan.chunkNumber, size);
  return 1;
}

/**
 * The built-in split of an object: `count` contiguous ranges covering `[0, size)`, of `chunkSize`
 * bytes (the last one shorter) or of nearly equal sizes. An empty object is one empty range; an
 * object of unknown size is one range `[0, -1)`.
 */
export function builtinSpans(size: number, plan: ChunkPlan, count: number): ByteSpan[] {
  if (size < 0) return [{ start: 0, end: -1 }];
  if (count <= 1) return [{ start: 0, end: size }];
  const spans: ByteSpan[] = [];
  for (let i = 0; i < count; i++) {
    if (plan.chunkSize !== undefined)
      spans.push({ start: i * plan.chunkSize, end: Math.min(size, (i + 1) * plan.chunkSize) });
    else spans.push({ start: Math.floor((i * size) / count), end: Math.floor(((i + 1) * size) / count) });
  }
  return spans;
}

/**
 * Runs a user partitioner and checks its ranges: integers, ascending, not overlapping, within the
 * object, at least one.
 *
 * @throws PartitionError (code `BAD_RANGES`) naming the object and the offending range.
 */
export async function userSpans(
  object: ObjectRef,
  partitioner: NonNullable<PartitionOptions['partitioner']>,
): Promise<ByteSpan[]> {
  const spans = await partitioner({ ...object });
  const bad = (why: string): PartitionError =>
    new PartitionError('BAD_RANGES', `partitioner returned ${why} for ${shownUri(object.uri)} (size ${object.size})`, {
      uri: object.uri,
      ...(object.bucket === '' ? {} : { bucket: object.bucket, key: object.key }),
    });
  if (!Array.isArray(spans) || spans.length === 0) throw bad('no ranges (return at least one { start, end })');
  let last = 0;
  for (const [i, s] of spans.entries()) {
    const ok = typeof s === 'object' && s !== null && Number.isSafeInteger(s.start) && Number.isSafeInteger(s.end);
    if (!ok) throw bad(`range ${i} that is not { start, end } integers`);
    const within =
      s.start >= last &&
      s.end >= s.start &&
      (object.size < 0 || s.end <= object.size) &&
      (s.end > s.start || object.size === 0);
    if (!within)
      throw bad(`range ${i} [${s.start}, ${s.end}) that is empty, out of order, overlapping or past the end`);
    last = s.end;
  }
  return spans.map((s) => ({ start: s.start, end: s.end }));
}
