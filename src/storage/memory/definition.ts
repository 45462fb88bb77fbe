/**
 * The definition of the `memory` storage driver (buckets inside this process, for tests).
 */
import type { StorageDriverDefinition } from '../definition.js';
import { memoryOptionsSchema, type MemoryOptions } from './options.js';

/** The `memory` driver: name, options schema, capabilities and a lazy factory. */
export const memoryDefinition: StorageDriverDefinition<MemoryOptions> = {
  name: 'memory',
  summary: 'buckets inside this process (tests; no worker process can reach them)',
  options: memoryOptionsSchema,
  capabilities: () => ({ presign: false, multipart: false, remote: false, processes: false, local: true }),
  create: async (options) => (await import('./driver.js')).createMemoryDriver(options),
};
