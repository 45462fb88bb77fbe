/**
 * The backend registry: names map to lazy imports, so a user of one backend never loads another's
 * dependencies. Users may also pass a backend instance directly.
 */
import { ConfigError } from '../errors.js';
import type { BackendContext, BackendFactory, ComputeBackend } from './types.js';

const registry = new Map<string, () => Promise<BackendFactory>>([
  ['localhost', async () => (await import('./localhost/backend.js')).localhost as BackendFactory],
  ['slurm', async () => (await import('./slurm/backend.js')).slurm as BackendFactory],
  ...(['knative', 'cloudrun', 'code_engine'] as const).map((n) => [n, async () => (await import('./http-drivers.js'))[n] as BackendFactory] as const),
  ['aws_lambda', async () => (await import('./aws_lambda/backend.js')).awsLambda as BackendFactory],
]);

/** Registers a backend under `name`; `load` is called on first use. */
export function registerBackend(name: string, load: () => Promise<BackendFactory>): void {
  registry.set(name, load);
}

/** Names of the registered backends. */
export function backendNames(): string[] {
  return [...registry.keys()];
}

/** Creates a backend from a name (with its options) or returns the instance given. */
export async function createBackend(spec: string | ComputeBackend, options: Record<string, unknown>, context: BackendContext): Promise<ComputeBackend> {
  if (typeof spec !== 'string') return spec;
  const load = registry.get(spec);
  if (!load) {
    throw new ConfigError(`unknown backend "${spec}"; registered backends: ${backendNames().join(', ')}`, { keyPath: 'backend', backend: spec });
  }
  const factory = await load();
  return factory(options, context);
}
