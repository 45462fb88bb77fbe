/**
 * The storage driver registry: driver definitions by name, built from the builtin list below plus any
 * third-party definitions registered at run time. A definition creates its driver with a dynamic
 * import, so naming a driver loads only that driver (a localhost user never loads the AWS SDK).
 */
import { ConfigError } from '../errors.js';
import type { StorageDriverCapabilities, StorageDriverDefinition } from './definition.js';
import { fsDefinition } from './fs/definition.js';
import { memoryDefinition } from './memory/definition.js';
import { validateStorageOptions } from './options.js';
import { s3Definition } from './s3/definition.js';
import type { StorageConfig, StorageDriver } from './types.js';

/** A definition of any driver, as the registry holds it. */
export type AnyStorageDriverDefinition = StorageDriverDefinition<never>;

/** The drivers Burst ships: one line per driver. */
export const builtinStorageDrivers: readonly AnyStorageDriverDefinition[] = [
  fsDefinition,
  memoryDefinition,
  s3Definition,
];

/** Creates a driver from its options (the old `registerStorage(name, loader)` form). */
export type StorageFactory = (options: Record<string, unknown>) => StorageDriver;
/** Loads a driver module and returns its factory (the old `registerStorage(name, loader)` form). */
export type StorageLoader = () => Promise<StorageFactory>;

const definitions = new Map<string, AnyStorageDriverDefinition>(builtinStorageDrivers.map((d) => [d.name, d]));

/**
 * Registers (or replaces) a storage driver: a third-party driver is a module that exports a
 * {@link StorageDriverDefinition} and registers it. The older form `(name, loader)` still works: its
 * options are passed through unchecked and its capabilities are the driver instance's.
 *
 * @example
 * ```ts
 * registerStorage(gcsDefinition);
 * const storage = new Storage({ driver: 'gcs', project: 'p' });
 * ```
 */
export function registerStorage<Options extends object>(definition: StorageDriverDefinition<Options>): void;
/** @deprecated Register a {@link StorageDriverDefinition} instead. */
export function registerStorage(name: string, loader: StorageLoader): void;
export function registerStorage(first: string | StorageDriverDefinition<never>, loader?: StorageLoader): void {
  const definition = typeof first === 'string' ? fromLoader(first, loader) : first;
  if (typeof definition !== 'object' || definition === null)
    throw new ConfigError('registerStorage needs a storage driver definition');
  const { name } = definition;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(name)) {
    throw new ConfigError(
      `storage driver name must be lowercase letters, digits, "+", "-" or ".", got ${JSON.stringify(name)}`,
    );
  }
  for (const key of ['options', 'capabilities', 'create'] as const) {
    if (typeof definition[key] !== 'function')
      throw new ConfigError(`storage driver "${name}" needs a function "${key}" in its definition`, { keyPath: key });
  }
  definitions.set(name, definition);
}

function fromLoader(name: string, loader: StorageLoader | undefined): AnyStorageDriverDefinition {
  if (typeof loader !== 'function') throw new ConfigError(`storage driver "${name}" needs a loader function`);
  return {
    name,
    summary: `${name} storage`,
    options: (z) => z.looseObject({}),
    // Unknown until the instance exists; the executor reads the instance's own capabilities.
    capabilities: () => ({ presign: false, multipart: false, remote: true, processes: true, local: false }),
    create: async (options) => (await loader())(options),
  };
}

/** Names of the registered drivers, sorted. */
export function storageDrivers(): string[] {
  return [...definitions.keys()].sort();
}

/**
 * The drivers an executor can use, in registration order: those whose data worker processes can open
 * (not memory). Their names are the storage sections of `ExecutorOptions` and config files.
 */
export function executorStorageDrivers(): AnyStorageDriverDefinition[] {
  return [...definitions.values()].filter((d) => d.capabilities({} as never).processes);
}

/** The definition registered under `name`, if any. */
export function storageDefinition(name: string): AnyStorageDriverDefinition | undefined {
  return definitions.get(name);
}

/**
 * What the driver a config describes can do, known without creating it (undefined for a driver this
 * process does not know). Backends and workers ask this instead of comparing driver names.
 */
export function storageCapabilitiesOf(config: StorageConfig): StorageDriverCapabilities | undefined {
  return definitions.get(config.driver)?.capabilities(config.options as never);
}

/** True when `value` looks like a driver instance rather than a name or config. */
export function isStorageDriver(value: unknown): value is StorageDriver {
  const v = value as Partial<StorageDriver> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.put === 'function' &&
    typeof v.get === 'function' &&
    typeof v.list === 'function'
  );
}

/**
 * Returns a storage driver: an instance passes through; a name is created with `options`; a
 * {@link StorageConfig} (what `driver.config` holds) re-creates the driver it describes. Options are
 * checked against the driver's schema first (a ConfigError names the option at fault).
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
  return open(spec, options, true);
}

/**
 * Re-creates the driver that a `driver.config` describes, in a worker: the options were validated
 * where the config was made, so this skips the schema (and zod stays unloaded in worker processes).
 */
export async function openStorageConfig(config: StorageConfig): Promise<StorageDriver> {
  return open(config, undefined, false);
}

async function open(
  spec: string | StorageConfig | StorageDriver,
  options: Record<string, unknown> | undefined,
  validate: boolean,
): Promise<StorageDriver> {
  if (isStorageDriver(spec)) return spec;
  let name: string;
  let driverOptions: Record<string, unknown>;
  let module: string | undefined;
  if (typeof spec === 'string') {
    name = spec;
    driverOptions = options ?? {};
  } else if (typeof spec === 'object' && spec !== null && typeof (spec as StorageConfig).driver === 'string') {
    name = spec.driver;
    driverOptions = { ...(spec.options ?? {}), ...(options ?? {}) };
    module = spec.module;
  } else {
    throw new ConfigError('storage must be a driver name, a { driver, options } config or a driver instance', {
      keyPath: 'storage',
    });
  }
  const definition = definitions.get(name) ?? (module === undefined ? undefined : await importDefinition(name, module));
  if (!definition) {
    throw new ConfigError(`unknown storage driver "${name}"; registered: ${storageDrivers().join(', ')}`, {
      keyPath: 'storage',
    });
  }
  if (typeof driverOptions !== 'object' || driverOptions === null || Array.isArray(driverOptions)) {
    throw new ConfigError(`options of storage driver "${name}" must be an object`, { keyPath: 'storage.options' });
  }
  const checked = validate ? (validateStorageOptions(definition, driverOptions) as never) : (driverOptions as never);
  const driver = await definition.create(checked);
  // Workers re-create the driver from its config: a third-party one must say where it comes from.
  if (definition.module !== undefined && driver.config.module === undefined) driver.config.module = definition.module;
  return driver;
}

/** Imports the module a config names and returns the definition it registered or exports. */
async function importDefinition(name: string, module: string): Promise<AnyStorageDriverDefinition | undefined> {
  // A config names code to run: only an installed package or a file on this machine, never code
  // carried in the config itself (data:) or fetched (http:).
  if (typeof module !== 'string' || (/^[a-z][a-z0-9+.-]*:/i.test(module) && !module.startsWith('file:'))) {
    throw new ConfigError(
      `storage driver "${name}": its module must be a package name or a file: URL, got ${JSON.stringify(module)}`,
      { keyPath: 'storage.module' },
    );
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(module)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(
      `storage driver "${name}" is not registered here and its module ${JSON.stringify(module)} could not be imported: ${(err as Error).message}`,
      { keyPath: 'storage', cause: err },
    );
  }
  if (!definitions.has(name)) {
    const exported = Object.values(exports).find(
      (v): v is AnyStorageDriverDefinition =>
        typeof v === 'object' &&
        v !== null &&
        (v as { name?: unknown }).name === name &&
        typeof (v as { create?: unknown }).create === 'function',
    );
    if (exported) registerStorage(exported);
  }
  return definitions.get(name);
}
