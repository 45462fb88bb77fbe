/**
 * Runtime managers by backend name, from the backend definitions (their `runtime`), imported lazily
 * so the AWS and Kubernetes SDKs load only for the backend in use.
 */
import { ConfigError } from '../errors.js';
import { backendDefinition, backendDefinitions } from '../backends/index.js';
import type { RuntimeManager } from './types.js';

/** Backends that have runtimes to build or deploy. */
export function runtimeBackends(): string[] {
  return backendDefinitions()
    .filter((d) => d.runtime)
    .map((d) => d.name);
}

/** The runtime manager of `backend`; a {@link ConfigError} names the backends that have one. */
export async function runtimeManager(backend: string): Promise<RuntimeManager> {
  const load = backendDefinition(backend)?.runtime;
  if (!load) {
    throw new ConfigError(
      `the ${JSON.stringify(backend)} backend has no runtimes to build or deploy; backends with runtimes: ${runtimeBackends().join(', ') || 'none'}`,
      { keyPath: 'backend', backend },
    );
  }
  return load();
}
