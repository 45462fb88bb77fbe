/**
 * The definition of the `memory` storage driver (buckets inside this process, for tests).
 */
import type { StorageDriverDefinition } from '../definition.js';
import { memoryCapabilities, memorySpec, type MemoryOptions } from './options.js';

/** The `memory` driver: name, options schema, capabilities and a lazy factory. */
export const memoryDefinition: StorageDriverDefinition<MemoryOptions> = {
  ...memorySpec,
  summary: 'buckets inside this process (tests; no worker process can reach them)',
  capabilities: memoryCapabilities,
  create: async (options) => (await import('./driver.js')).createMemoryDriver(options),
};
