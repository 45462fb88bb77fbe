/**
 * The storage layer's public surface: the driver contract, the registry (names → lazy imports), the
 * driver factories, storage URIs and the user-facing `Storage` class.
 *
 * Importing this module loads no SDK: the s3 driver imports the AWS SDK on first use.
 */
export type * from './types.js';
export { isPrefixEntry } from './types.js';
export {
  builtinStorageDrivers,
  createStorage,
  executorStorageDrivers,
  isStorageDriver,
  openStorageConfig,
  registerStorage,
  storageCapabilitiesOf,
  storageDefinition,
  storageDrivers,
  type AnyStorageDriverDefinition,
  type StorageFactory,
  type StorageLoader,
} from './registry.js';
export {
  optionChecks,
  type OptionsMatchSchema,
  type StorageDriverCapabilities,
  type StorageDriverDefinition,
  type StorageOptionsSchema,
  type ZodNamespace,
} from './definition.js';
export { validateStorageOptions } from './options.js';
export { memory, type MemoryOptions } from './memory/driver.js';
export { fs, type FsOptions } from './fs/driver.js';
export { s3 } from './s3/factory.js';
export type { S3Options } from './s3/options.js';
export {
  formatStorageUri,
  isStorageUri,
  parseStorageUri,
  resolveStorageUri,
  type StorageLocation,
  type UriDefaults,
} from './uri.js';
export {
  Storage,
  type CommonStorageOptions,
  type LegacyStorageOptions,
  type StorageBackendOptions,
  type StorageDriverOptions,
  type StorageOptions,
} from './storage.js';
export { StorageBucket } from './storage-bucket.js';
