/**
 * Recognising partition inputs (client side): which strings name data where it lives (object URIs,
 * prefixes, globs, local paths, HTTP(S) URLs) rather than being ordinary call inputs, and what each
 * one asks for: one object, every object under a prefix, or the objects a glob matches.
 */
import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type Picomatch from 'picomatch';
import { ConfigError } from '../errors.js';
import { storageDrivers } from '../storage/registry.js';
import { parseStorageUri } from '../storage/uri.js';

/** One input string, understood. */
export type ParsedInput =
  | { kind: 'http'; input: string; url: string }
  | {
      kind: 'storage';
      input: string;
      /** `s3`, `fs`, `file` (local paths and `file://` URLs) or another registered driver. */
      scheme: string;
      bucket: string;
      /** The key; a prefix when it is `''` or ends in `/`; a pattern when `glob` is set. */
      key: string;
      /** Keys must match this picomatch pattern (the key as written); the listing uses `key` as prefix. */
      glob?: string;
    };

const URI = /^([a-z][a-z0-9+.-]*):\/\//i;
const LOCAL = /^(\/|\.\.?\/)/;
/** Characters that may start a glob construct; the listing prefix stops before the first of them. */
const GLOB_CHARS = /[*?[\]{}()!+@\\]/;

let loaded: typeof Picomatch | undefined;
/** picomatch, required on first use: most maps never see a glob, and `import 'burst-compute'` stays cheap. */
export function picomatch(): typeof Picomatch {
  return (loaded ??= createRequire(import.meta.url)('picomatch') as typeof Picomatch);
}

function isHttp(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

function isGlob(pattern: string): boolean {
  return picomatch().scan(pattern).isGlob;
}

/** A local path names data when it exists, or is a glob whose literal folder exists. */
function isLocalData(value: string): boolean {
  const abs = resolvePath(value);
  if (exists(abs)) return true;
  if (!isGlob(value)) return false;
  const base = picomatch().scan(abs).base;
  return base !== '' && exists(base);
}

/** True when one string names data: a storage or HTTP(S) URI, or a local path that exists. */
export function isDataLocation(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false;
  const m = URI.exec(value);
  if (m) {
    const scheme = (m[1] as string).toLowerCase();
    return scheme === 'http' || scheme === 'https' || scheme === 'file' || storageDrivers().includes(scheme);
  }
  return LOCAL.test(value) && isLocalData(value);
}

/**
 * True when `inputs` asks to map over data where it lives: a URI or local path string, or a non-empty
 * array whose items all are (`s3://`, `fs://`, `file://`, `http(s)://`, a registered driver's scheme,
 * or an absolute or `./`-relative local path that exists). Other values are ordinary call inputs.
 *
 * @example
 * ```ts
 * isPartitionInput('s3://logs/2019/');          // true
 * isPartitionInput(['./data/a.csv', 'fs://b/k']); // true when ./data/a.csv exists
 * isPartitionInput(['hello', 'world']);          // false
 * ```
 */
export function isPartitionInput(inputs: unknown): inputs is string | string[] {
  if (typeof inputs === 'string') return isDataLocation(inputs);
  return Array.isArray(inputs) && inputs.length > 0 && inputs.every(isDataLocation);
}

/** The literal start of a glob: the listing prefix that every matching key shares. */
export function literalPrefix(pattern: string): string {
  const at = pattern.search(GLOB_CHARS);
  return at < 0 ? pattern : pattern.slice(0, at);
}

/**
 * Parses one input string.
 *
 * @throws ConfigError when it is not a string or not a location (see {@link isDataLocation}).
 */
export function parseInput(input: unknown): ParsedInput {
  if (typeof input !== 'string' || input === '') {
    throw new ConfigError(
      `a data input must be a URI or path string, got ${typeof input === 'string' ? '""' : typeof input}`,
    );
  }
  if (isHttp(input)) {
    let url: URL;
    try {
      url = new URL(input);
    } catch (err) {
      throw new ConfigError(`invalid URL ${JSON.stringify(input)}`, { cause: err });
    }
    return { kind: 'http', input, url: url.href };
  }
  const local = !URI.test(input) || /^file:/i.test(input);
  const { scheme, bucket, key } = parseStorageUri(input);
  // A local path that exists as written is never a pattern, even with "[" or "(" in its name.
  if (key !== '' && isGlob(key) && !(local && exists(resolvePath(localPathOf(input))))) {
    return { kind: 'storage', input, scheme, bucket, key: literalPrefix(key), glob: key };
  }
  return { kind: 'storage', input, scheme, bucket, key };
}

function localPathOf(input: string): string {
  try {
    return /^file:/i.test(input) ? fileURLToPath(input) : input;
  } catch {
    return input;
  }
}
