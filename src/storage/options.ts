/**
 * Validation of driver options through each driver's schema (its definition's `options`), the one
 * validator for options from constructors, config files and environment variables. Options often
 * come from files and variables, so unknown names and wrong values are refused with messages that
 * name the option. Zod loads here, on the first validation, never at import.
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { ConfigError } from '../errors.js';
import { nearestName } from '../nearest.js';
import type { StorageDriverDefinition, StorageOptionsSchema, StorageOptionsSpec, ZodNamespace } from './definition.js';

const requireCjs = createRequire(import.meta.url);
const schemas = new WeakMap<object, StorageOptionsSchema>();

/** The zod namespace, loaded on first call (synchronously: driver factories are synchronous). */
export function loadZod(): ZodNamespace {
  return (requireCjs('zod') as typeof import('zod')).z;
}

/** The options schema of a driver, built on first use. */
export function storageOptionsSchema(definition: StorageOptionsSpec<never>): StorageOptionsSchema {
  let schema = schemas.get(definition.options);
  if (!schema) {
    schema = definition.options(loadZod());
    schemas.set(definition.options, schema);
  }
  return schema;
}

/** The kind of value of one option, for reading it from an environment variable. */
export type OptionKind = 'string' | 'number' | 'boolean' | 'string[]' | 'object';

/** The option names of a driver with their kinds, derived from its schema. */
export function storageOptionKinds(definition: StorageDriverDefinition<never>): Record<string, OptionKind> {
  const shape = storageOptionsSchema(definition).shape as Record<string, Zod.ZodType>;
  return Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, kindOf(schema)]));
}

function kindOf(schema: Zod.ZodType): OptionKind {
  let def = schema._zod.def as { type: string; innerType?: Zod.ZodType; element?: Zod.ZodType };
  while (def.innerType) def = def.innerType._zod.def as typeof def; // optional, default, nullable
  if (def.type === 'string' || def.type === 'enum' || def.type === 'literal') return 'string';
  if (def.type === 'number' || def.type === 'int') return 'number';
  if (def.type === 'boolean') return 'boolean';
  if (def.type === 'array') return 'string[]';
  return 'object';
}

/**
 * Checks `options` against the driver's schema and returns them. Throws a {@link ConfigError} naming
 * the option (in `keyPath` too, under `section` when given, e.g. `s3.partSize`) for an unknown name or
 * a wrong value; undefined values mean "use the default" and are skipped.
 */
export function validateStorageOptions<Options extends object>(
  definition: StorageOptionsSpec<Options>,
  options: unknown,
  section?: string,
): Options {
  const name = definition.name;
  const at = (key: string): string => (section === undefined ? key : `${section}.${key}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`${name} storage options must be an object, got ${describe(options)}`, {
      keyPath: section ?? name,
    });
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  // Nothing set, nothing to check: zod stays unloaded (a run with nothing configured loads nothing).
  if (Object.keys(given).length === 0) return options as Options;
  const schema = storageOptionsSchema(definition as StorageOptionsSpec<never>);
  const known = Object.keys(schema.shape);
  for (const key of Object.keys(given)) {
    if (!known.includes(key))
      throw new ConfigError(`unknown ${name} storage option "${key}"${nearest(key, known)}`, { keyPath: at(key) });
  }
  const result = schema.safeParse(given);
  if (!result.success) {
    const issue = result.error.issues[0] as Zod.core.$ZodIssue;
    const key = issue.path.map(String).join('.');
    const value = given[String(issue.path[0])];
    const got = /secret|token|password|passwd|passphrase|credential|private|apikey|api_key|accesskey|signingkey/i.test(
      key,
    )
      ? 'a value (not shown: it is a secret)'
      : describe(value);
    throw new ConfigError(`${name} storage option "${key}" must be ${issue.message}, got ${got}`, { keyPath: at(key) });
  }
  return options as Options;
}

function nearest(key: string, known: string[]): string {
  const best = nearestName(key, known);
  return best !== undefined ? `; did you mean "${best}"?` : `; known: ${known.join(', ')}`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}
