/**
 * The options of the memory driver: the interface users write (with its TSDoc) and the schema that
 * checks them, tied together by a compile-time check.
 */
import { optionChecks, type OptionsMatchSchema, type ZodNamespace } from '../definition.js';
import type { StorageDriverCapabilities, StorageOptionsSpec } from '../definition.js';

/** Options of the `memory` storage driver. */
export interface MemoryOptions {
  /**
   * Drivers created with the same `id` in one process share their buckets, so a driver re-created from
   * `config` sees the same data. Without an id the store is private to this instance.
   * @default undefined (a private store)
   */
  id?: string;
  /**
   * Buckets to create at construction.
   * @default []
   */
  buckets?: string[];
}

/** The schema of {@link MemoryOptions}. */
export function memoryOptionsSchema(z: ZodNamespace) {
  const { string, stringArray } = optionChecks(z);
  return z.object({ id: string(), buckets: stringArray('an array of bucket names') }, { error: 'an object' });
}

/** Fails to compile when {@link MemoryOptions} and its schema disagree on a name or a type. */
const exact: OptionsMatchSchema<MemoryOptions, typeof memoryOptionsSchema> = true;
void exact;

/** The name and schema of the `memory` driver: what its module validates options with. */
export const memorySpec: StorageOptionsSpec<MemoryOptions> = { name: 'memory', options: memoryOptionsSchema };

/** Where this driver's data lives. */
export const memoryCapabilities = (_options: MemoryOptions = {}): StorageDriverCapabilities => ({
  presign: false,
  multipart: false,
  remote: false,
  processes: false,
  local: true,
});
