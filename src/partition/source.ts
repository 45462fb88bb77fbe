/**
 * Where a worker reads a chunk's bytes from: the storage driver its spec describes (created once per
 * process and reused, loading an SDK only when that driver needs one) or an HTTP(S) URL.
 */
import { ConfigError } from '../errors.js';
import { openStorageConfig } from '../storage/registry.js';
import type { StorageConfig, StorageDriver } from '../storage/types.js';
import type { RangeOpener } from './align.js';
import { PartitionError, shownUri } from './errors.js';
import type { PartitionSpec } from './types.js';

/** Reads one object's bytes. */
export interface ChunkSource {
  /** Fails when the object is no longer the one planned (storage: one HEAD; HTTP checks each response). */
  verify(): Promise<void>;
  /** The bytes `[from, to)`. */
  open: RangeOpener;
  /** The whole object. */
  whole(): Promise<AsyncIterable<Uint8Array>>;
}

const drivers = new Map<string, Promise<StorageDriver>>();

/** The driver for a config, created on first use and shared by every partition read in this process. */
export function storageFor(config: StorageConfig): Promise<StorageDriver> {
  const id = JSON.stringify(config);
  let driver = drivers.get(id);
  if (!driver) {
    driver = openStorageConfig(config);
    drivers.set(id, driver);
    driver.catch(() => drivers.delete(id));
  }
  return driver;
}

/** Closes the drivers partition reads created in this process (their sockets and handles). */
export async function closePartitionStorage(): Promise<void> {
  const all = [...drivers.values()];
  drivers.clear();
  await Promise.all(all.map(async (d) => (await d.catch(() => undefined))?.close?.()));
}

/** The error for an object that differs from its plan. */
export function objectChanged(spec: PartitionSpec, why: string): PartitionError {
  const where =
    spec.bucket === ''
      ? shownUri(spec.uri)
      : `object ${JSON.stringify(spec.key)} in bucket ${JSON.stringify(spec.bucket)}`;
  return new PartitionError('OBJECT_CHANGED', `${where} changed since it was planned (${why})`, {
    uri: spec.uri,
    ...(spec.bucket === '' ? {} : { bucket: spec.bucket, key: spec.key }),
  });
}

function storageSource(spec: PartitionSpec, given: StorageDriver | undefined): ChunkSource {
  const config = spec.storage as StorageConfig;
  const driver = (): Promise<StorageDriver> => (given ? Promise.resolve(given) : storageFor(config));
  const { bucket, key } = spec;
  return {
    async verify() {
      const info = await (await driver()).head(bucket, key);
      if (info.size !== spec.size) throw objectChanged(spec, `size ${info.size}, expected ${spec.size}`);
      if (spec.etag !== undefined && info.etag !== undefined && info.etag !== spec.etag) {
        throw objectChanged(spec, `etag ${info.etag}, expected ${spec.etag}`);
      }
    },
    open: async (from, to) => (await driver()).getStream(bucket, key, { range: { offset: from, length: to - from } }),
    whole: async () => (await driver()).getStream(bucket, key),
  };
}

function httpSource(spec: PartitionSpec): ChunkSource {
  const expect = { size: spec.size, ...(spec.etag === undefined ? {} : { etag: spec.etag }) };
  // Specs planned before limits travelled with them get the defaults (undefined = the default).
  const limits = spec.http;
  // node:http and node:https load only when a spec reads over HTTP: workers boot faster without them.
  const http = (): Promise<typeof import('./http.js')> => import('./http.js');
  return {
    verify: async () => undefined,
    open: async (from, to) => (await http()).fetchRange(spec.uri, from, to, expect, limits),
    whole: async () => (await http()).fetchWhole(spec.uri, expect, limits),
  };
}

/**
 * The source of a spec's bytes. `driver` overrides the one `spec.storage` describes (for stores only
 * this process can see, such as an unnamed memory store).
 */
export function sourceFor(spec: PartitionSpec, driver?: StorageDriver): ChunkSource {
  if (spec.storage === undefined && driver === undefined) {
    if (!/^https?:\/\//i.test(spec.uri))
      throw new ConfigError(`partition of ${shownUri(spec.uri)} has no storage config`);
    return httpSource(spec);
  }
  return storageSource(spec, driver);
}
