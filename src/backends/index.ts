/**
 * The backend registry: backend definitions by name. The built-in ones come from builtin.ts; another
 * package adds its own with {@link registerBackend}. A definition imports its client lazily, so a
 * user of one backend never loads another's dependencies. Users may also pass a backend instance.
 */
import { ConfigError } from '../errors.js';
import { builtinBackends, type BuiltinBackendOptions } from './builtin.js';
import type { BackendDefinition } from './definition.js';
import { checkBackendOptions } from './options-check.js';
import type { BackendContext, BackendFactory, ComputeBackend } from './types.js';

/**
 * The options of each backend by name: the type of its `ExecutorOptions` section and of its factory's
 * argument. A package that registers a backend adds its entry by declaration merging:
 *
 * @example
 * ```ts
 * declare module 'burst-compute' {
 *   interface BackendOptionsMap { my_cluster: BackendOptionsOf<typeof myCluster> }
 * }
 * ```
 */
export interface BackendOptionsMap extends BuiltinBackendOptions {}

const registry = new Map<string, BackendDefinition>(
  builtinBackends.map((d) => [d.name, d as unknown as BackendDefinition]),
);
let version = 0;

/**
 * Registers (or replaces) a backend: a {@link BackendDefinition}, or (the older form) a name and a
 * loader of its factory, whose options are then passed through unchecked.
 */
export function registerBackend(definition: BackendDefinition): void;
export function registerBackend(name: string, load: () => Promise<BackendFactory>): void;
export function registerBackend(
  nameOrDefinition: string | BackendDefinition,
  load?: () => Promise<BackendFactory>,
): void {
  const definition = typeof nameOrDefinition === 'string' ? legacyDefinition(nameOrDefinition, load) : nameOrDefinition;
  if (
    typeof definition !== 'object' ||
    definition === null ||
    typeof definition.create !== 'function' ||
    typeof definition.options !== 'function'
  ) {
    throw new ConfigError(
      'registerBackend needs a backend definition ({ name, summary, options, create }) or a name and a loader',
      { keyPath: 'backend' },
    );
  }
  if (typeof definition.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(definition.name)) {
    throw new ConfigError(
      `a backend name must be lowercase letters, digits and "_", starting with a letter, got ${JSON.stringify(definition.name)}`,
      { keyPath: 'backend' },
    );
  }
  registry.set(definition.name, definition);
  version++;
}

function legacyDefinition(name: string, load: (() => Promise<BackendFactory>) | undefined): BackendDefinition {
  if (typeof load !== 'function')
    throw new ConfigError(`backend "${name}" needs a loader function`, { keyPath: 'backend', backend: name });
  return {
    name,
    summary: `the ${name} backend`,
    options: (z) => z.looseObject({}),
    create: async (options, context) => (await load())(options, context),
  };
}

/** Names of the registered backends. */
export function backendNames(): string[] {
  return [...registry.keys()];
}

/** The registered definitions, in registration order. */
export function backendDefinitions(): BackendDefinition[] {
  return [...registry.values()];
}

/** The definition registered as `name`, if any. */
export function backendDefinition(name: string): BackendDefinition | undefined {
  return registry.get(name);
}

/** A number that changes whenever a backend is registered (for caches of what derives from the registry). */
export function registryVersion(): number {
  return version;
}

/**
 * Creates a backend from a name (its options checked against its schema) or returns the instance
 * given. A {@link ConfigError} names the registered backends, or the option at fault.
 */
export async function createBackend(
  spec: string | ComputeBackend,
  options: Record<string, unknown>,
  context: BackendContext,
): Promise<ComputeBackend> {
  if (typeof spec !== 'string') return spec;
  const definition = registry.get(spec);
  if (!definition) {
    throw new ConfigError(`unknown backend "${spec}"; registered backends: ${backendNames().join(', ')}`, {
      keyPath: 'backend',
      backend: spec,
    });
  }
  return definition.create(checkBackendOptions(definition, options), context);
}
