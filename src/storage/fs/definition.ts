/**
 * The definition of the `fs` storage driver (local files; a shared filesystem on a cluster).
 */
import type { StorageDriverDefinition } from '../definition.js';
import { fsOptionsSchema, type FsOptions } from './options.js';

/** The `fs` driver: name, options schema, capabilities and a lazy factory. */
export const fsDefinition: StorageDriverDefinition<FsOptions> = {
  name: 'fs',
  summary: 'files under a local folder (or a filesystem every worker host mounts)',
  options: fsOptionsSchema,
  // Workers on other hosts see the files only when the root is on a filesystem they all mount.
  capabilities: (options) => ({ presign: false, multipart: false, remote: options.shared ?? false, processes: true, local: true }),
  describe: (options) => `fs ${String(options.root)}`,
  create: async (options) => (await import('./driver.js')).createFsDriver(options),
};
