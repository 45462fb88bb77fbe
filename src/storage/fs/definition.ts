/**
 * The definition of the `fs` storage driver (local files; a shared filesystem on a cluster).
 */
import type { StorageDriverDefinition } from '../definition.js';
import { fsCapabilities, fsSpec, type FsOptions } from './options.js';

/** The `fs` driver: name, options schema, capabilities and a lazy factory. */
export const fsDefinition: StorageDriverDefinition<FsOptions> = {
  ...fsSpec,
  summary: 'files under a local folder (or a filesystem every worker host mounts)',
  capabilities: fsCapabilities,
  describe: (options) => `fs ${String(options.root)}`,
  create: async (options) => (await import('./driver.js')).createFsDriver(options),
};
