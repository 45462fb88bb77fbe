/**
 * The worker side of partitioning: the marked call input the executor sends, and the
 * {@link DataPartition} a user's function receives in its place. Imports no SDK, bundler or client
 * module: a storage driver loads on the first read, through the registry's lazy loaders.
 */
import { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import type { StorageDriver } from '../storage/types.js';
import { alignToLines, asBuffer, type RangeOpener } from './align.js';
import { splitLines } from './lines.js';
import { objectChanged, sourceFor, type ChunkSource } from './source.js';
import type { ByteSpan, PartitionSpec } from './types.js';

export { closePartitionStorage } from './source.js';

/** The property that marks a call input as a partition to read. */
export const PARTITION_MARK = '__burstPartition';

/** A call input that stands for a partition. */
export interface MarkedPartition {
  [PARTITION_MARK]: PartitionSpec;
}

/** Wraps a spec into the call input the executor sends (plain data: it survives JSON and structured clone). */
export function markPartition(spec: PartitionSpec): MarkedPartition {
  return { [PARTITION_MARK]: spec };
}

function isSpec(value: unknown): value is PartitionSpec {
  const s = value as Partial<PartitionSpec> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.uri === 'string' &&
    typeof s.bucket === 'string' &&
    typeof s.key === 'string' &&
    Number.isSafeInteger(s.start) &&
    Number.isSafeInteger(s.end) &&
    Number.isSafeInteger(s.size) &&
    Number.isSafeInteger(s.part) &&
    Number.isSafeInteger(s.totalParts) &&
    (s.newline === null || typeof s.newline === 'string')
  );
}

/**
 * What the user's function receives for a call input: a {@link DataPartition} for a marked input,
 * the input itself otherwise (one `typeof` and one property read).
 *
 * @throws ConfigError when an input carries the mark but not a valid spec.
 */
export function toCallInput(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const spec = (input as Record<string, unknown>)[PARTITION_MARK];
  if (spec === undefined) return input;
  if (!isSpec(spec))
    throw new ConfigError(`call input marked "${PARTITION_MARK}" does not hold a valid partition spec`);
  return new DataPartition(spec);
}

async function* counted(
  source: AsyncIterable<Uint8Array>,
  expected: number,
  spec: PartitionSpec,
): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const raw of source) {
    const chunk = asBuffer(raw);
    n += chunk.length;
    if (chunk.length > 0) yield chunk;
  }
  if (expected >= 0 && n !== expected) throw objectChanged(spec, `read ${n} bytes where ${expected} were planned`);
}

/**
 * One chunk of one object, as a call's input. The readers stream only this chunk's data from where
 * the object lives, each time they are called.
 *
 * With a newline (the default `'\n'`), the data is the whole lines that start in {@link range}: it
 * may begin after `range.start` and end after `range.end`, and every line of the object is in exactly
 * one partition. `bytes()`, `text()` and `stream()` give that data with its terminators; `lines()`
 * gives the lines without them (with `'\n'`, a `'\r'` before it is dropped as well). With
 * `objNewline: null` the data is exactly `range`, and `lines()` splits it on `'\n'` (lines at its
 * edges may be cut).
 */
export class DataPartition {
  /** The object's URI. */
  readonly uri: string;
  /** The bucket (`''` for HTTP(S) URLs). */
  readonly bucket: string;
  /** The key (`''` for HTTP(S) URLs). */
  readonly key: string;
  /** This chunk's index among its object's chunks (0-based). */
  readonly part: number;
  /** How many chunks the object was split into. */
  readonly totalParts: number;
  /** The assigned byte range `[start, end)`, before line alignment (`end` is -1 when the size is unknown). */
  readonly range: ByteSpan;
  /** The object's size in bytes (-1 when an HTTP server did not say). */
  readonly size: number;
  /** Index of the object among all objects of the map. */
  readonly objectIndex: number;
  /** The line terminator the data is aligned to, or `null` for the exact range. */
  readonly newline: string | null;
  // Private (not an own enumerable property): the storage config may hold credentials.
  readonly #spec: PartitionSpec;
  readonly #driver: StorageDriver | undefined;

  /**
   * @param options.driver reads through this driver instead of one created from `spec.storage`
   *   (for stores only this process can see)
   */
  constructor(spec: PartitionSpec, options: { driver?: StorageDriver } = {}) {
    this.#spec = spec;
    this.#driver = options.driver;
    this.uri = spec.uri;
    this.bucket = spec.bucket;
    this.key = spec.key;
    this.part = spec.part;
    this.totalParts = spec.totalParts;
    this.range = { start: spec.start, end: spec.end };
    this.size = spec.size;
    this.objectIndex = spec.objectIndex;
    this.newline = spec.newline;
  }

  /** The partition's data as chunks of bytes, read from storage as they are consumed. */
  async *chunks(): AsyncGenerator<Buffer> {
    const spec = this.#spec;
    const source: ChunkSource = sourceFor(spec, this.#driver);
    await source.verify();
    const { start, end, size, newline } = spec;
    if (size >= 0 && start >= Math.min(end, size)) return;
    if (start === 0 && (size < 0 || end >= size)) {
      yield* counted(await source.whole(), size, spec);
    } else if (newline === null) {
      yield* counted(await source.open(start, end), end - start, spec);
    } else {
      const truncated = () => objectChanged(spec, 'it is shorter than planned');
      let reads = 0;
      const open: RangeOpener = (from, to) => (reads++, source.open(from, to));
      yield* alignToLines(open, { start, end, size, truncated }, Buffer.from(newline));
      // Reads past the first were separate requests: make sure they all saw the planned version.
      if (reads > 1) await source.verify();
    }
  }

  /** The data as a byte stream. */
  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false });
  }

  /** The data as bytes. */
  async bytes(): Promise<Uint8Array> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks()) parts.push(chunk);
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** The data decoded as UTF-8. */
  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8');
  }

  /** The lines of the data, without terminators, streamed. */
  lines(): AsyncIterable<string> {
    const newline = this.#spec.newline ?? '\n';
    return splitLines(this.chunks(), Buffer.from(newline), newline === '\n');
  }

  /** A summary for logs and JSON (without the storage config, which may hold credentials). */
  toJSON(): Record<string, unknown> {
    const { uri, bucket, key, part, totalParts, range, size, objectIndex, newline } = this;
    return { uri, bucket, key, part, totalParts, range, size, objectIndex, newline };
  }
}
