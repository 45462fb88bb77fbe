/**
 * Validation of driver options, which often come from config files and environment variables: unknown
 * names and wrong types are refused at construction with messages that name the option.
 */
import { ConfigError } from '../errors.js';

type Kind = 'string' | 'boolean' | 'positive integer' | 'string[]';

/** The expected kind of each option a driver accepts. */
export type OptionKinds = Record<string, Kind>;

function matches(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'positive integer':
      return Number.isSafeInteger(value) && (value as number) > 0;
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
  }
}

/**
 * Throws a {@link ConfigError} for an option not in `kinds` or of the wrong kind. Undefined values are
 * skipped (they mean "use the default").
 */
export function validateOptions(driver: string, options: object, kinds: OptionKinds): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`${driver} storage options must be an object`);
  }
  for (const [name, value] of Object.entries(options)) {
    const kind = kinds[name];
    if (!kind) {
      throw new ConfigError(`unknown ${driver} storage option "${name}"; known: ${Object.keys(kinds).join(', ')}`, { keyPath: name });
    }
    if (value !== undefined && !matches(value, kind)) {
      const got = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? String(value) : typeof value;
      throw new ConfigError(`${driver} storage option "${name}" must be a ${kind}, got ${got}`, { keyPath: name });
    }
  }
}
