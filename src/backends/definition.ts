/**
 * A compute backend's definition: everything Burst needs to know about one backend, in one object
 * (its folder's index.ts). The registry, the config schema, `ExecutorOptions`, the environment
 * variables, `burst runtime` and the cost estimates all derive from the definitions, so adding a
 * backend is one folder plus one line in builtin.ts (or one `registerBackend(definition)` call from
 * another package).
 *
 * A definition module must stay light: it loads neither zod (the schema is a builder that receives
 * zod) nor the backend's client, SDK or runtime manager (`create` and `runtime` import them lazily).
 */
import type { z as Zod } from 'zod';
import type { BackendContext, ComputeBackend } from './types.js';
import type { RuntimeManager } from '../runtime/types.js';
import type { PriceTable } from '../stats/cost.js';

/** The zod namespace a schema builder receives (`import { z } from 'zod'`). */
export type ZodNamespace = typeof Zod;

/** A backend's options schema: a zod object whose keys are the options of its config section. */
export type OptionsSchema = Zod.ZodObject;

/**
 * The definition of a compute backend. `S` is its options schema, `N` its name, `O` its options type:
 * the schema's input type, or a hand-written interface with TSDoc tied to it by {@link SameOptions}
 * (declaration files drop the TSDoc of an inferred type, so users of the package see `O`'s).
 */
export interface BackendDefinition<
  S extends OptionsSchema = OptionsSchema,
  N extends string = string,
  O = Zod.input<S>,
> {
  /**
   * The backend name: the value of `backend`, the config section of its options (`slurm: {...}`) and
   * the prefix of its environment variables (`BURST_SLURM_PARTITION`). Lowercase letters, digits, `_`.
   */
  readonly name: N;
  /** One line for `burst config init` and error messages, e.g. "a Slurm cluster (sbatch)". */
  readonly summary: string;
  /**
   * Builds the options schema with the zod it is given (zod loads only when options are validated).
   * Every key is optional; each check's error message says what was expected ("a positive integer"),
   * validation adds the key path and the value. The schema's input type is the options' type.
   */
  options(z: ZodNamespace): S;
  /** Creates the backend from validated options; imports the client module lazily. */
  create(options: Zod.output<S>, context: BackendContext): Promise<ComputeBackend>;
  /** The manager of its deployable runtimes (`burst runtime …`), imported lazily. @default none */
  runtime?(): Promise<RuntimeManager>;
  /**
   * The module (a path relative to the package's `src/` or `dist/`, without extension) of the entry a
   * deployed runtime runs, when it is not `burst worker run`/`serve`. @default none
   */
  readonly workerEntry?: string;
  /**
   * Whether the backend chooses memory per invocation (a worker's heap limit, Slurm's `--mem`), so
   * `oomRetry` can give a call more of it; serverless memory is fixed by the deployed runtime.
   * @default false
   */
  readonly memoryPerInvocation?: boolean;
  /** How the backend bills, for `estimateCost` and `burst plot`. @default none (no estimate) */
  readonly prices?: PriceTable;
  /** Keys that existed once, with what to tell a user who still sets them. @default {} */
  readonly removedOptions?: Readonly<Record<string, string>>;
  /** Type only (never set): the options type `O`. */
  readonly __options?: O;
}

/** The options type of a definition (the input type of its schema). */
export type BackendOptionsOf<D> = D extends { readonly __options?: infer O } ? O : never;

/**
 * Declares a backend definition, keeping its literal name and schema type (so
 * `BackendOptionsOf<typeof myBackend>` is its options type).
 *
 * @example
 * ```ts
 * export const myCluster = defineBackend({
 *   name: 'my_cluster',
 *   summary: 'my cluster',
 *   options: (z) => z.object({ queue: z.string({ error: 'a queue name' }).optional() }),
 *   create: async (options, context) => new (await import('./backend.js')).MyClusterBackend(options, context),
 * });
 * ```
 */
export function defineBackend<S extends OptionsSchema, const N extends string>(
  definition: BackendDefinition<S, N>,
): BackendDefinition<S, N> {
  return definition;
}

/**
 * A backend chosen with its options, as the factories return it (`backend: slurm({ partition: 'x' })`).
 * The executor takes `name` as the backend and `options` as its section.
 */
export interface BackendSelection<N extends string = string, O = object> {
  readonly kind: 'burst.backend';
  readonly name: N;
  readonly options: O;
}

/** A {@link BackendSelection} of backend `name` with `options`. */
export function selectBackend<N extends string, O>(name: N, options: O): BackendSelection<N, O> {
  return Object.freeze({ kind: 'burst.backend', name, options });
}

/** True for what {@link selectBackend} returns. */
export function isBackendSelection(value: unknown): value is BackendSelection {
  const v = value as Partial<BackendSelection> | null;
  return typeof v === 'object' && v !== null && v.kind === 'burst.backend' && typeof v.name === 'string';
}

/**
 * `true` when a hand-written options interface and a schema's input type have the same keys and
 * value types. The interfaces are kept because declaration files drop the TSDoc of an inferred
 * schema type; `OptionsMatch<…>` ties each one to its schema at compile time.
 */
export type SameOptions<A, B> = [Required<A>] extends [Required<B>]
  ? [Required<B>] extends [Required<A>]
    ? true
    : false
  : false;
/** Compiles only when `T` is `true` (use: `export type Checked = OptionsMatch<SameOptions<A, B>>`). */
export type OptionsMatch<T extends true> = T;
