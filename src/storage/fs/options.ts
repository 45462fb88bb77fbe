/**
 * The options of the fs driver: the interface users write (with its TSDoc) and the schema that checks
 * them, tied together by a compile-time check.
 */
import { optionChecks, type OptionsMatchSchema, type ZodNamespace } from '../definition.js';
import type { StorageDriverCapabilities, StorageOptionsSpec } from '../definition.js';

/** Options of the `fs` storage driver. */
export interface FsOptions {
  /**
   * The folder holding one folder per bucket. Created on the first `createBucket`, never before.
   * @default process.env.BURST_FS_ROOT ?? '~/.burst/storage'
   */
  root?: string;
  /**
   * The root is on a filesystem every worker host mounts at the same path (NFS, Lustre, GPFS on a
   * cluster), so workers on other hosts can use this store.
   * @default false
   */
  shared?: boolean;
  /**
   * Flush each object to disk before it becomes visible (survives a power loss; slower).
   * @default false
   */
  fsync?: boolean;
}

/** The schema of {@link FsOptions}: the one validator for constructor, config-file and environment options. */
export function fsOptionsSchema(z: ZodNamespace) {
  const { boolean } = optionChecks(z);
  return z.object(
    {
      root: z
        .string({ error: 'a non-empty path' })
        .min(1, { error: 'a non-empty path' })
        .refine((r) => !r.includes('\0'), { error: 'a path without NUL characters' })
        .optional(),
      shared: boolean(),
      fsync: boolean(),
    },
    { error: 'an object' },
  );
}

/** Fails to compile when {@link FsOptions} and its schema disagree on a name or a type. */
const exact: OptionsMatchSchema<FsOptions, typeof fsOptionsSchema> = true;
void exact;

/** The name and schema of the `fs` driver: what its module validates options with. */
export const fsSpec: StorageOptionsSpec<FsOptions> = { name: 'fs', options: fsOptionsSchema };

/** Where this driver's data lives: workers on other hosts see the files only when the root is on a filesystem they all mount. */
export const fsCapabilities = (options: FsOptions): StorageDriverCapabilities => ({
  presign: false,
  multipart: false,
  remote: options.shared ?? false,
  processes: true,
  local: true,
});
