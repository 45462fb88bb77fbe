/**
 * What a storage driver is, in one object: its name, its options schema, what it can do, and how to
 * create it. The registry, the config-file sections, the `BURST_<DRIVER>_*` variables and the
 * executor's checks all read this object, so adding a driver is one folder plus one line in
 * `registry.ts` (or one `registerStorage(definition)` call for a third-party package).
 *
 * Zod is a dependency but loads only when options are first validated: schemas are given as builders
 * that receive the zod namespace, and the driver module itself is imported by `create`.
 */
import type { z as Zod } from 'zod';
import type { StorageCapabilities, StorageDriver } from './types.js';

/** The zod namespace a schema builder receives (`import { z } from 'zod'`). */
export type ZodNamespace = typeof Zod;

/** An object schema whose keys are a driver's options; each option optional or with a default. */
export type StorageOptionsSchema = Zod.ZodObject;

/**
 * Where a driver's data lives, as the executor and the backends need to know it: every field of
 * {@link StorageCapabilities}, none left to a default.
 */
export type StorageDriverCapabilities = Required<StorageCapabilities>;

/**
 * The part of a definition that validation needs: its name and options schema. A driver module
 * validates with this (from its `options.ts`), never with its definition, which imports the driver.
 */
export type StorageOptionsSpec<Options extends object = Record<string, unknown>> = Pick<
  StorageDriverDefinition<Options>,
  'name' | 'options'
>;

/**
 * The definition of a storage driver.
 *
 * @typeParam Options - the driver's options as users write them. Keep a hand-written interface with
 * TSDoc (declaration files drop comments on inferred zod types) and tie it to the schema with
 * {@link OptionsMatchSchema}, so the two cannot drift apart.
 *
 * @example
 * ```ts
 * import { registerStorage, type StorageDriverDefinition } from 'burst-compute';
 *
 * interface GcsOptions { project?: string }
 * export const gcs: StorageDriverDefinition<GcsOptions> = {
 *   name: 'gcs',
 *   summary: 'Google Cloud Storage',
 *   module: import.meta.url, // workers import this module to register the driver
 *   options: (z) => z.object({ project: z.string({ error: 'a project id' }).optional() }),
 *   capabilities: () => ({ presign: true, multipart: true, remote: true, processes: true, local: false }),
 *   create: async (options) => (await import('./gcs-driver.js')).createGcsDriver(options),
 * };
 * registerStorage(gcs);
 * ```
 */
export interface StorageDriverDefinition<Options extends object = Record<string, unknown>> {
  /** The driver name: `storage: 'gcs'`, the `gcs:` options section, `gcs://` URIs, `BURST_GCS_*` variables. */
  readonly name: string;
  /** One line for CLI choices and messages, e.g. `'local files'`. */
  readonly summary: string;
  /**
   * Builds the options schema from the zod namespace it is given (so zod loads only on first use). The
   * one validator of the options, wherever they come from: constructor, config file or environment.
   * Each check's `error` says what was expected ("a positive integer"); messages add the option name
   * and the value. Its shape also gives the kinds of the `BURST_<NAME>_<OPTION>` variables. Options with
   * nothing set skip it (zod stays unloaded), so a required option is also checked by `create`.
   */
  readonly options: (z: ZodNamespace) => StorageOptionsSchema;
  /** What a driver created with these (validated) options can do; known without loading the driver. */
  readonly capabilities: (options: Options) => StorageDriverCapabilities;
  /**
   * Where a driver with these options points, for CLI output (`fs /data/burst`); never credentials.
   * @default the driver name
   */
  readonly describe?: (options: Options) => string;
  /**
   * The options as a cloud function with its own identity (AWS Lambda's role) should get them: without
   * what names files on the client's disk and, when `ownIdentity`, without the client's credentials.
   * @default the options unchanged
   */
  readonly forCloudFunction?: (options: Options, ownIdentity: boolean) => Record<string, unknown>;
  /** Creates the driver from validated options, importing its module on first use. */
  readonly create: (options: Options) => Promise<StorageDriver>;
  /**
   * A module a worker process imports when it meets this driver's name without knowing it (a
   * third-party driver): a package name or a `file:` URL, usually `import.meta.url` of the module that
   * registers the definition (or exports it). Builtin drivers need none.
   * @default undefined (the driver must be registered in the worker already)
   */
  readonly module?: string;
}

/** True when two types are mutually assignable. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * `true` when `Options` has exactly the keys and value types of the schema's input; use it to tie a
 * hand-written options interface (which keeps its TSDoc in declaration files) to its schema:
 *
 * ```ts
 * const exact: OptionsMatchSchema<S3Options, typeof s3OptionsSchema> = true;
 * ```
 */
export type OptionsMatchSchema<Options, Build extends (z: ZodNamespace) => StorageOptionsSchema> =
  Same<Required<Options>, Required<Zod.input<ReturnType<Build>>>> extends true
    ? Same<keyof Options, keyof Zod.input<ReturnType<Build>>>
    : false;

/** Schema pieces with the messages every driver uses, so config files and constructors say the same. */
export function optionChecks(z: ZodNamespace) {
  return {
    /** A non-empty string. */
    string: (what = 'a non-empty string') => z.string({ error: what }).min(1, { error: what }).optional(),
    boolean: () => z.boolean({ error: 'a boolean' }).optional(),
    /** A positive safe integer, optionally bounded. */
    positiveInteger: (bounds: { min?: number; minWhat?: string; max?: number } = {}) => {
      const what = 'a positive integer';
      let n = z.number({ error: what }).int({ error: what }).min(1, { error: what });
      if (bounds.min !== undefined) n = n.min(bounds.min, { error: bounds.minWhat ?? `at least ${bounds.min}` });
      if (bounds.max !== undefined) n = n.max(bounds.max, { error: `at most ${bounds.max}` });
      return n.optional();
    },
    stringArray: (what = 'an array of strings') => z.array(z.string({ error: what }), { error: what }).optional(),
  };
}
