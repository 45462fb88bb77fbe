/**
 * The schema of a Burst config file (`burst.config.json`, `burst.config.ts`, `~/.burst/config.json`,
 * `BURST_CONFIG`), built with zod. Zod is loaded on first use only (with `require`, so the synchronous
 * constructor path can use it): a user with nothing configured never pays for it.
 *
 * Each check's message is what was expected ("a positive integer"); the loader adds the file, the key
 * path and the value it got. The known keys of each section are listed here too, for the warnings
 * about unknown keys and for reading BURST_* variables by kind.
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import type { ExecutorOptions } from './defaults.js';
import { executorStorageDrivers } from '../storage/registry.js';
import { storageOptionKinds, storageOptionsSchema } from '../storage/options.js';
import { backendDefinition, backendDefinitions, backendNames, registryVersion } from '../backends/index.js';
import { optionKinds, optionsSchema, type KeyKind } from '../backends/options-check.js';
import { nearestName } from '../nearest.js';

/**
 * What a config file may hold: the JSON-representable {@link ExecutorOptions}, with backend and
 * storage given by name. Keys are the constructor's option names.
 *
 * @example
 * ```ts
 * // burst.config.ts
 * import type { BurstConfig } from 'burst-compute';
 * export default { backend: 'slurm', storage: 's3', s3: { endpoint: 'http://rgw:7480' } } satisfies BurstConfig;
 * ```
 */
export type BurstConfig = Omit<ExecutorOptions, 'backend' | 'storage' | 'config'> & {
  /** A registered backend name. @default 'localhost' */
  backend?: string;
  /** A registered storage driver name. @default 'fs' */
  storage?: string;
};

export type { KeyKind };

/**
 * The keys of each section besides the backend sections, which come from the backend definitions
 * (see {@link sectionKeys}). `undefined` marks a section whose keys its driver checks itself (no
 * warning for keys we do not know).
 */
export const KNOWN_KEYS: Record<string, Record<string, KeyKind> | undefined> = {
  '': {
    backend: 'string',
    storage: 'string',
    bucket: 'string',
    workers: 'number',
    timeout: 'number',
    retries: 'number',
    runtimeMemory: 'number',
    progress: 'boolean',
    external: 'string[]',
    backendOptions: 'object',
    signingKey: 'string',
    redis: 'object',
    primitives: 'string',
    cache: 'boolean',
    speculative: 'object',
  },
  backendOptions: undefined,
  redis: { url: 'string', workerUrl: 'string', connectTimeoutMs: 'number' },
};

// The storage sections (fs, s3): keys and kinds derived from each driver's schema, on first use (zod loads then).
for (const d of executorStorageDrivers()) {
  (KNOWN_KEYS[''] as Record<string, KeyKind>)[d.name] = 'object';
  Object.defineProperty(KNOWN_KEYS, d.name, { enumerable: true, configurable: true, get: () => storageOptionKinds(d) });
}

/**
 * The keys of a config section and their kinds: `''` is the top level (with a section per registered
 * backend), a backend's section comes from its options schema (zod loads on the first backend section
 * asked for). `undefined` for a section whose keys are not checked, or that does not exist.
 */
export function sectionKeys(section: string): Record<string, KeyKind> | undefined {
  if (section === '')
    return { ...KNOWN_KEYS[''], ...Object.fromEntries(backendNames().map((n) => [n, 'object' as const])) };
  if (section in KNOWN_KEYS) return KNOWN_KEYS[section];
  const definition = backendDefinition(section);
  if (!definition) return undefined;
  const kinds = optionKinds(definition);
  return Object.keys(kinds).length > 0 ? kinds : undefined;
}

/** True for a top-level key whose value is a section of keys (`s3`, `slurm`, …). */
export function isSection(key: string): boolean {
  return key !== '' && (key in KNOWN_KEYS || backendDefinition(key) !== undefined);
}

/** Key names (in any section) whose values are secrets: never printed. */
export function isSecretKey(key: string): boolean {
  return /secret|token|password|passwd|passphrase|credential|private|apikey|api_key|accesskey|signingkey/i.test(key);
}

/**
 * A copy of `raw` without the keys the schema does not know, each reported in `warnings` with the
 * nearest known key; `where(path)` names the source of a key.
 */
export function dropUnknownKeys(
  raw: Record<string, unknown>,
  section: string,
  where: (path: string) => string,
  warnings: string[],
): Record<string, unknown> {
  const known = sectionKeys(section);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const path = section ? `${section}.${k}` : k;
    if (section === '' && k === '$schema') continue;
    if (known && !(k in known)) {
      warnings.push(`${where(path)}: unknown key "${path}" is ignored${suggest(k, Object.keys(known), section)}`);
      continue;
    }
    out[k] = section === '' && isPlainObject(v) && isSection(k) ? dropUnknownKeys(v, k, where, warnings) : v;
  }
  return out;
}

function suggest(key: string, known: string[], section: string): string {
  const best = nearestName(key, known);
  const prefix = section ? `${section}.` : '';
  return best !== undefined
    ? `; did you mean "${prefix}${best}"?`
    : `; known keys: ${known.map((k) => prefix + k).join(', ')}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null)
  );
}

const requireCjs = createRequire(import.meta.url);
let schema: { version: number; schema: Zod.ZodType<BurstConfig> } | undefined;

/** The config schema (zod loads on the first call; rebuilt when a backend is registered). */
export function configSchema(): Zod.ZodType<BurstConfig> {
  if (schema?.version !== registryVersion())
    schema = { version: registryVersion(), schema: build((requireCjs('zod') as typeof import('zod')).z) };
  return schema.schema;
}

/** A section per registered backend, from its definition's options schema. */
function backendSections(z: typeof Zod): Record<string, Zod.ZodType> {
  return Object.fromEntries(
    backendDefinitions().map((d) => {
      const shape = optionsSchema(d).shape;
      return [
        d.name,
        Object.keys(shape).length > 0
          ? z.object(shape, { error: 'an object' }).partial()
          : z.looseObject({}, { error: 'an object' }),
      ];
    }),
  );
}

function build(z: typeof Zod): Zod.ZodType<BurstConfig> {
  const str = (what = 'a non-empty string') => z.string({ error: what }).min(1, { error: what });
  const bool = () => z.boolean({ error: 'true or false' });
  const posInt = (what = 'a positive integer') =>
    z.number({ error: what }).int({ error: what }).min(1, { error: what });
  const section = <T extends Zod.ZodRawShape>(shape: T) => z.object(shape, { error: 'an object' }).partial();
  return section({
    backend: str('a backend name such as "localhost" or "slurm"'),
    storage: str('a storage driver name such as "fs" or "s3"'),
    bucket: str(),
    workers: posInt(),
    timeout: z
      .number({ error: 'a positive number of seconds' })
      .positive({ error: 'a positive number of seconds' })
      .finite({ error: 'a positive number of seconds' }),
    retries: z
      .number({ error: 'a non-negative integer' })
      .int({ error: 'a non-negative integer' })
      .min(0, { error: 'a non-negative integer' }),
    runtimeMemory: z
      .number({ error: 'an integer number of MB of at least 16' })
      .int({ error: 'an integer number of MB of at least 16' })
      .min(16, { error: 'an integer number of MB of at least 16' }),
    progress: bool(),
    signingKey: z
      .string({ error: 'a secret of at least 16 characters' })
      .min(16, { error: 'a secret of at least 16 characters' }),
    external: z.array(z.string({ error: 'a package name' }), { error: 'an array of package names' }),
    redis: section({
      url: z.string({ error: 'a redis:// URL' }).regex(/^rediss?:\/\/./, { error: 'a redis:// URL' }),
      workerUrl: z.string({ error: 'a redis:// URL' }).regex(/^rediss?:\/\/./, { error: 'a redis:// URL' }),
      connectTimeoutMs: posInt(),
    }),
    primitives: z.enum(['redis', 'local', 'off'], { error: '"redis", "local" or "off"' }),
    cache: bool(),
    speculative: z.union([bool(), z.looseObject({})], { error: 'true, false or an object of options' }),
    ...Object.fromEntries(executorStorageDrivers().map((d) => [d.name, storageOptionsSchema(d).partial()])),
    ...backendSections(z),
    backendOptions: z.record(z.string(), z.looseObject({}, { error: 'an object of options' }), {
      error: 'an object of options by backend name',
    }),
  }) as unknown as Zod.ZodType<BurstConfig>;
}
