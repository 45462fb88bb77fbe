/**
 * The storage driver contract. Storage is Burst's data plane: function bundles, job data, call status
 * and results travel through it, and users keep their data in it. Buckets are explicit in every call.
 *
 * Every driver lives in its own folder (`src/storage/<name>/`) with a definition (definition.ts) that
 * the registry lists, and passes the shared conformance suite in `test/storage/suite.ts`.
 */
import type { Readable } from 'node:stream';

/** What `put` accepts: bytes, a string (UTF-8), or a stream of unknown length. */
export type StorageBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/** A byte range: `length` bytes from `offset` (to the end of the object when `length` is omitted). */
export interface ByteRange {
  offset: number;
  length?: number;
}

/** Metadata of one stored object. */
export interface ObjectInfo {
  key: string;
  /** Size in bytes. */
  size: number;
  /** An opaque version tag; changes when the content changes. */
  etag?: string;
  lastModified?: Date;
}

/** A common prefix returned by `list` when a delimiter is given (a "folder"). */
export interface PrefixEntry {
  prefix: string;
}

/** One entry of a listing: an object, or (with a delimiter) a common prefix. */
export type ListEntry = ObjectInfo | PrefixEntry;

/** Options of {@link StorageDriver.list}. */
export interface ListOptions {
  /** Group keys sharing a prefix up to this delimiter into {@link PrefixEntry} entries. */
  delimiter?: string;
  /** Only keys after this one (lexicographic, as S3). */
  startAfter?: string;
}

/** Options of {@link StorageDriver.get} and {@link StorageDriver.getStream}. */
export interface GetOptions {
  range?: ByteRange;
  signal?: AbortSignal;
}

/** Options of {@link StorageDriver.put}. */
export interface PutOptions {
  contentType?: string;
  signal?: AbortSignal;
  /** Called with the number of bytes sent so far (for progress bars). */
  onProgress?: (bytesSent: number) => void;
}

/** Optional capabilities a driver declares rather than letting callers guess. */
export interface StorageCapabilities {
  /** The driver can produce presigned URLs. */
  presign: boolean;
  /** Large uploads are split into parts. */
  multipart: boolean;
  /** Workers on other hosts can reach this store (false for memory; fs only on a shared filesystem). */
  remote: boolean;
  /**
   * Worker processes on this host can open the store from its `config` (false for memory, which
   * lives inside one process).
   * @default true
   */
  processes?: boolean;
  /**
   * The data sits on this machine or a mounted filesystem rather than behind a network service: cheap
   * to poll often, and out of reach of cloud functions (AWS Lambda).
   * @default false
   */
  local?: boolean;
}

/**
 * A JSON-serializable description from which a worker (possibly on another host) re-creates the
 * same driver: `{ driver: 's3', options: {...} }`.
 */
export interface StorageConfig {
  driver: string;
  options: Record<string, unknown>;
  /**
   * A module that registers this driver, for processes that do not know it (a third-party driver's
   * `StorageDriverDefinition.module`).
   * @default undefined
   */
  module?: string;
}

/** The contract every storage driver implements. */
export interface StorageDriver {
  /** The registered driver name, e.g. `'fs'`, `'memory'`, `'s3'`. */
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  /** How a worker re-creates this driver. May contain credentials: never print it. */
  readonly config: StorageConfig;

  put(bucket: string, key: string, body: StorageBody, options?: PutOptions): Promise<{ etag?: string }>;
  /** The whole object, or a byte range of it, as bytes. */
  get(bucket: string, key: string, options?: GetOptions): Promise<Uint8Array>;
  /** The whole object, or a byte range of it, as a stream. */
  getStream(bucket: string, key: string, options?: GetOptions): Promise<Readable>;
  head(bucket: string, key: string): Promise<ObjectInfo>;
  exists(bucket: string, key: string): Promise<boolean>;
  /** Keys under `prefix` in lexicographic order; pages transparently. */
  list(bucket: string, prefix?: string, options?: ListOptions): AsyncIterable<ListEntry>;
  /** Deletes the keys (missing keys are not an error), in batches. */
  delete(bucket: string, keys: Iterable<string> | AsyncIterable<string>): Promise<void>;
  createBucket(bucket: string): Promise<void>;
  /** Deletes an empty bucket. */
  deleteBucket(bucket: string): Promise<void>;
  bucketExists(bucket: string): Promise<boolean>;
  /** The buckets this store holds (that these credentials may see), sorted; for `burst storage ls s3://`. */
  listBuckets?(): Promise<string[]>;
  /** A time-limited URL for GET or PUT; only when `capabilities.presign`. */
  presign?(bucket: string, key: string, options: { method: 'GET' | 'PUT'; expiresSeconds: number }): Promise<string>;
  /** Releases sockets and handles. */
  close?(): Promise<void>;
}

/** Type guard for list entries. */
export function isPrefixEntry(entry: ListEntry): entry is PrefixEntry {
  return 'prefix' in entry;
}
