/**
 * A backend's options checked through its definition's schema: unknown keys are refused with the
 * nearest known key, wrong values with the key path, what was expected and what was given. Zod is
 * loaded (synchronously, so the config loader can use it too) only when there is something to check.
 * Nothing here is specific to compute backends: any `{ name, options }` definition (a storage driver's
 * too) can be checked, and have its environment-variable kinds derived, the same way.
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { ConfigError } from '../errors.js';
import { nearestName } from '../nearest.js';
import type { BackendDefinition, OptionsSchema, ZodNamespace } from './definition.js';

/** The kind of value a config key takes, which says how an environment variable's text is read. */
export type KeyKind = 'string' | 'number' | 'boolean' | 'string[]' | 'object';

const requireCjs = createRequire(import.meta.url);
/** Zod, loaded on first use. */
export function loadZod(): ZodNamespace {
  return (requireCjs('zod') as typeof import('zod')).z;
}

/** What checking needs of a definition. */
export type CheckedDefinition = Pick<BackendDefinition, 'name' | 'options' | 'removedOptions'>;

const schemas = new WeakMap<CheckedDefinition['options'], OptionsSchema>();

/** The options schema of `definition` (built once). */
export function optionsSchema(definition: CheckedDefinition): OptionsSchema {
  let schema = schemas.get(definition.options);
  if (!schema) schemas.set(definition.options, (schema = definition.options(loadZod())));
  return schema;
}

/**
 * Throws a {@link ConfigError} naming the key at fault when `options` does not fit the schema of
 * `definition`; returns them unchanged otherwise (defaults are the backend's to fill in).
 */
export function checkBackendOptions<T extends Record<string, unknown>>(definition: CheckedDefinition, options: T): T {
  const name = definition.name;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`${name} options must be an object, got ${show(name, options)}`, {
      keyPath: name,
      backend: name,
    });
  }
  const keys = Object.keys(options).filter((k) => options[k] !== undefined);
  if (keys.length === 0) return options;
  const schema = optionsSchema(definition);
  // A schema with no keys (a backend registered by name and loader) checks nothing.
  if (Object.keys(schema.shape).length === 0) return options;
  for (const key of keys) {
    const removed = definition.removedOptions?.[key];
    if (removed !== undefined)
      throw new ConfigError(`${name}.${key} ${removed}`, { keyPath: `${name}.${key}`, backend: name });
    if (!(key in schema.shape)) {
      const near = nearestName(key, Object.keys(schema.shape));
      const hint = near
        ? `; did you mean "${name}.${near}"?`
        : `; known options: ${Object.keys(schema.shape)
            .map((k) => `${name}.${k}`)
            .join(', ')}`;
      throw new ConfigError(`unknown option "${name}.${key}"${hint}`, { keyPath: `${name}.${key}`, backend: name });
    }
  }
  const result = schema.safeParse(options);
  if (result.success) return options;
  const issue = result.error.issues[0] as Zod.core.$ZodIssue;
  const key = String(issue.path[0] ?? '');
  const path = key ? `${name}.${key}` : name;
  const expected = /^Invalid|^Unrecognized/.test(issue.message) ? issue.message : `must be ${issue.message}`;
  throw new ConfigError(`${path} ${expected}, got ${show(key, key ? options[key] : options)}`, {
    keyPath: path,
    backend: name,
  });
}

/** How each key of `definition`'s options is read from an environment variable. */
export function optionKinds(definition: CheckedDefinition): Record<string, KeyKind> {
  const shape = optionsSchema(definition).shape as Record<string, Zod.ZodType>;
  return Object.fromEntries(Object.entries(shape).map(([key, s]) => [key, kindOf(s)]));
}

function unwrap(s: Zod.ZodType): Zod.ZodType {
  let t = s;
  for (;;) {
    const def = t.def as { type: string; innerType?: Zod.ZodType };
    if (
      !['optional', 'default', 'nullable', 'prefault', 'readonly', 'nonoptional'].includes(def.type) ||
      !def.innerType
    )
      return t;
    t = def.innerType;
  }
}

function kindOf(s: Zod.ZodType): KeyKind {
  switch ((unwrap(s).def as { type: string }).type) {
    case 'number':
    case 'int':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return 'string[]';
    case 'string':
    case 'enum':
    case 'literal':
    case 'template_literal':
      return 'string';
    default:
      // Objects, records and unions (`true` or a number) are read as JSON.
      return 'object';
  }
}

function show(key: string, v: unknown): string {
  if (/secret|token|password|passphrase|credential|private|apikey|api_key|accesskey|signingkey/i.test(key))
    return 'a value (not shown: it is a secret)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}
