/**
 * The partitioner's data types: what the client computes ({@link PartitionSpec}, one per call) and
 * the options that shape it ({@link PartitionOptions}). A spec is plain JSON, so it crosses IPC,
 * structured clone and storage unchanged, and a worker on another host can act on it alone.
 */
import type { StorageConfig } from '../storage/types.js';

/** A byte range `[start, end)` of an object. */
export interface ByteSpan {
  start: number;
  end: number;
}

/**
 * The description of one chunk of one object: everything a worker needs to read it.
 *
 * With `newline` set, the chunk's data is its assigned range aligned to whole lines: it owns the lines
 * that *start* in `[start, end)`, so every line of the object belongs to exactly one chunk.
 */
export interface PartitionSpec {
  /** The object's URI, e.g. `s3://bucket/key`, `fs://bucket/key`, `file:///abs/path`, `https://host/x`. */
  uri: string;
  /** How a worker re-creates the storage driver; absent for `http(s)` URLs. May hold credentials. */
  storage?: StorageConfig;
  /** The bucket, `''` for `http(s)` URLs. */
  bucket: string;
  /** The key, `''` for `http(s)` URLs. */
  key: string;
  /** This chunk's index among the object's chunks (0-based). */
  part: number;
  /** How many chunks the object was split into. */
  totalParts: number;
  /** Start of the assigned byte range, before line alignment. */
  start: number;
  /** End (exclusive) of the assigned byte range, before line alignment; -1 when the size is unknown. */
  end: number;
  /** The object's size in bytes; -1 for an `http(s)` URL whose server did not say. */
  size: number;
  /** The object's version tag when planned; reading fails if it changed since. */
  etag?: string;
  /** The line terminator chunks are aligned to; `null` for exact byte ranges. */
  newline: string | null;
  /** Index of the object among all objects of the map, in input order (to group chunks per object). */
  objectIndex: number;
  /** For `http(s)` URLs: the time limits and allowed redirect hosts the worker's reads keep to. */
  http?: {
    connectTimeout: number;
    headTimeout: number;
    readTimeout: number;
    redirectHosts: string[];
  };
}

/** An object found by the planner, as handed to a user-supplied {@link PartitionOptions.partitioner}. */
export interface ObjectRef {
  uri: string;
  bucket: string;
  key: string;
  /** Size in bytes; -1 when unknown (an `http(s)` server that sent no Content-Length). */
  size: number;
  etag?: string;
}

/** Options that choose how objects are split into chunks (one call per chunk). */
export interface PartitionOptions {
  /**
   * Bytes per chunk (the last chunk of an object may be shorter). Exclusive with `objChunkNumber`.
   * @default undefined (one chunk per object, unless `objChunkNumber` is given)
   */
  objChunkSize?: number;
  /**
   * Chunks per object, of nearly equal sizes; fewer when an object has fewer bytes than this.
   * Exclusive with `objChunkSize`.
   * @default undefined (one chunk per object, unless `objChunkSize` is given)
   */
  objChunkNumber?: number;
  /**
   * The line terminator chunk edges are moved to, so no line is split or repeated; `null` gives exact
   * byte ranges. It must not overlap itself (`'\n'`, `'\r\n'`, `'\u001e'` are fine; `'\n\n'` is not).
   * @default '\n'
   */
  objNewline?: string | null;
  /**
   * Replaces the built-in splitter for formats with their own record boundaries: returns the exact
   * byte ranges to hand out (ascending, non-overlapping, within the object). These ranges are used
   * as they are, without line alignment. Runs in the client, from listings only.
   * @default undefined (split by `objChunkSize` / `objChunkNumber`)
   */
  partitioner?: (object: ObjectRef) => ByteSpan[] | Promise<ByteSpan[]>;
  /**
   * The most calls a map over data sources (object URIs, prefixes, globs, local files, URLs) may
   * plan; past it the map fails with a `ConfigError` before anything runs. A guard against a listing
   * or a `Content-Length` far larger than expected. Plain input arrays are never limited. At most
   * 1,000,000.
   * @default 100_000
   */
  maxCalls?: number;
  /**
   * Milliseconds to connect (TCP and TLS) to an HTTP(S) input's server, when planning and reading.
   * @default 10_000
   */
  httpConnectTimeout?: number;
  /**
   * Milliseconds an HTTP(S) server may take to send the response headers (of the HEAD when planning,
   * of each GET when reading).
   * @default 30_000
   */
  httpHeadTimeout?: number;
  /**
   * Milliseconds an HTTP(S) response body may pause while a worker waits for its next bytes.
   * @default 60_000
   */
  httpReadTimeout?: number;
  /**
   * Hosts (`'cdn.example.com'`, or `'cdn.example.com:8443'` for one port) an HTTP(S) input may
   * redirect to besides its own host. Redirects to any other host, and from HTTPS to HTTP, fail with
   * a `PartitionError` (code `HTTP_REDIRECT`) naming both hosts.
   * @default [] (same-host redirects only)
   */
  httpRedirectHosts?: string[];
}
