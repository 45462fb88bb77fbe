/**
 * The storage driver registry: driver names mapped to lazy imports, so naming a driver loads only that
 * driver (a localhost user never loads the AWS SDK). New drivers register themselves here by name.
 */
import { ConfigError } from '../errors.js';
import type { StorageConfig, StorageDriver } from './types.js';

/** Creates a driver from its options (validated by the factory itself). */
export type StorageFactory = (options: Record<string, unknown>) => StorageDriver;
/** Loads a driver module and returns its factory. */
export type StorageLoader = () => Promise<StorageFactory>;

const loaders = new Map<string, StorageLoader>();

/**
 * Registers (or replaces) a storage driver under `name`.
 *
 * @example
 * ```ts
 * registerStorage('gcs', async () => (await import('./my-gcs-driver.js')).gcs);
 * ```
 */
export function registerStorage(name: string, loader: StorageLoader): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(name)) {
    throw new ConfigError(`storage driver name must be lowercase letters, digits, "+", "-" or ".", got ${JSON.stringify(name)}`);
  }
  if (typeof loader !== 'function') throw new ConfigError(`storage driver "${name}" needs a loader function`);
  loaders.set(name, loader);
}

/** Names of the registered drivers, sorted. */
export function storageDrivers(): string[] {
  return [...loaders.keys()].sort();
}

registerStorage('fs', async () => (await import('./fs/driver.js')).fs as StorageFactory);
registerStorage('memory', async () => (await import('./memory/driver.js')).memory as StorageFactory);
registerStorage('s3', async () => (await import('./s3/driver.js')).s3 as StorageFactory);

/** True when `value` looks like a driver instance rather than a name or config. */
export function isStorageDriver(value: unknown): value is StorageDriver {
  const v = value as Partial<StorageDriver> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.put === 'function' &&
    typeof v.get === 'function' && typeof v.list === 'function'
  );
}

/**
 * Returns a storage driver: an instance passes through; a name is created with `options`; a
 * {@link StorageConfig} (what `driver.config` holds) re-creates the driver it describes.
 *
 * @example
 * ```ts
 * const local = await createStorage('fs', { root: '/data' });
 * const again = await createStorage(local.config); // e.g. in a worker
 * ```
 */
export async function createStorage(
  spec: string | StorageConfig | StorageDriver,
  options?: Record<string, unknown>,
): Promise<StorageDriver> {
  if (isStorageDriver(spec)) return spec;
  let name: string;
  let driverOptions: Record<string, unknown>;
  if (typeof spec === 'string') {
    name = spec;
    driverOptions = options ?? {};
  } else if (typeof spec === 'object' && spec !== null && typeof (spec as StorageConfig).driver === 'string') {
    name = spec.driver;
    driverOptions = { ...(spec.options ?? {}), ...(options ?? {}) };
  } else {
    throw new ConfigError('storage must be a driver name, a { driver, options } config or a driver instance', { keyPath: 'storage' });
  }
  const loader = loaders.get(name);
  if (!loader) {
    throw new ConfigError(`unknown storage driver "${name}"; registered: ${storageDrivers().join(', ')}`, { keyPath: 'storage' });
  }
  if (typeof driverOptions !== 'object' || driverOptions === null || Array.isArray(driverOptions)) {
    throw new ConfigError(`options of storage driver "${name}" must be an object`, { keyPath: 'storage.options' });
  }
  const factory = await loader();
  return factory(driverOptions);
}
