/**
 * Runtime managers by backend name, imported lazily so the AWS and Kubernetes SDKs load only for the
 * backend in use.
 */
import { ConfigError } from '../errors.js';
import type { RuntimeManager } from './types.js';

const managers = new Map<string, () => Promise<RuntimeManager>>([
  ['aws_lambda', async () => (await import('../backends/aws_lambda/runtime.js')).awsLambdaRuntimes],
  ...(['knative', 'cloudrun', 'code_engine'] as const).map((n) => [n, async () => (await import('./container-runtimes.js'))[n]] as const),
]);

/** Backends that have runtimes to build or deploy. */
export function runtimeBackends(): string[] {
  return [...managers.keys()];
}

/** The runtime manager of `backend`; a {@link ConfigError} names the backends that have one. */
export async function runtimeManager(backend: string): Promise<RuntimeManager> {
  const load = managers.get(backend);
  if (!load) {
    throw new ConfigError(`the ${JSON.stringify(backend)} backend has no runtimes to build or deploy; backends with runtimes: ${runtimeBackends().join(', ') || 'none'}`, { keyPath: 'backend', backend });
  }
  return load();
}
