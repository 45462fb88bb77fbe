/**
 * Reads the storage configuration a worker is started with (`--storage-config`, the
 * BURST_STORAGE_CONFIG variable): one parser for `burst worker run`, `burst worker serve` and the
 * Lambda handler, so they accept and refuse the same things.
 */
import type { StorageConfig } from '../storage/types.js';
import { ConfigError } from '../errors.js';

/** Parses and shape-checks a storage configuration; `source` names where it came from in its ConfigError. */
export function parseStorageConfig(text: string, source: string): StorageConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid JSON: ${(err as Error).message}`, { keyPath: source, cause: err });
  }
  const c = parsed as Partial<StorageConfig>;
  if (typeof c !== 'object' || c === null || typeof c.driver !== 'string' || typeof c.options !== 'object') {
    throw new ConfigError(
      `${source} must look like {"driver":"fs","options":{...}}, got ${JSON.stringify(parsed)?.slice(0, 100)}`,
      { keyPath: source },
    );
  }
  return c as StorageConfig;
}

/** The configuration in BURST_STORAGE_CONFIG, or undefined when it is unset. */
export function envStorageConfig(): StorageConfig | undefined {
  const text = process.env.BURST_STORAGE_CONFIG;
  return text ? parseStorageConfig(text, 'BURST_STORAGE_CONFIG') : undefined;
}
