/**
 * What the client-side commands share: the `--config` flag, loading the configuration, opening the
 * configured storage, a label of it that never shows a secret, and small output helpers.
 */
import type { Command } from 'commander';
import { loadConfig, mergeConfig, reportConfigWarnings, type LoadedConfig } from '../config/load.js';
import { defaults } from '../config/defaults.js';
import type { BurstConfig } from '../config/schema.js';
import type { StorageDriver } from '../storage/types.js';
import { ConfigError } from '../errors.js';
import { storageDefinition } from '../storage/registry.js';

/** The configured storage, opened. */
export interface OpenedStorage {
  storage: StorageDriver;
  bucket: string;
  /** e.g. `fs /home/me/.burst/storage` or `s3 http://127.0.0.1:7480`: safe to print. */
  label: string;
  close(): Promise<void>;
}

/** Adds `--config <file>` to a command. */
export function withConfigOption(cmd: Command): Command {
  return cmd.option('--config <file>', 'use this config file instead of looking one up');
}

/**
 * Flags of one command that set single configuration keys, by dotted key path, each with the flag's
 * name (for `origins`): `{ 's3.endpoint': ['--endpoint', url] }`. Undefined values are skipped.
 */
export type FlagOverrides = Record<string, readonly [flag: string, value: unknown]>;

/**
 * The configuration of a command, resolved the same way for every command (and as the executor does):
 * the config file (its `--config` flag, else the usual search), then BURST_* variables, then the
 * command's own flags. Prints the warnings once.
 */
export async function loadCliConfig(flags: { config?: string }, overrides: FlagOverrides = {}): Promise<LoadedConfig> {
  const loaded = await loadConfig(flags.config ? { file: flags.config } : {});
  for (const [path, [flag, value]] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const [a, b] = path.split('.') as [string, string | undefined];
    loaded.options = mergeConfig(loaded.options, { [a]: b === undefined ? value : { [b]: value } });
    loaded.origins[path] = flag;
  }
  reportConfigWarnings(loaded.warnings);
  return loaded;
}

/** The storage driver name and options of a configuration. */
export function storageSpec(options: BurstConfig): { name: string; driverOptions: Record<string, unknown> } {
  const name = options.storage ?? defaults.storage;
  const section = (options as Record<string, unknown>)[name];
  return {
    name,
    driverOptions: typeof section === 'object' && section !== null ? { ...(section as Record<string, unknown>) } : {},
  };
}

/** Opens the configured storage (the driver loads lazily, its SDK on first request). */
export async function openStorage(options: BurstConfig): Promise<OpenedStorage> {
  const { createStorage } = await import('../storage/index.js');
  const { name, driverOptions } = storageSpec(options);
  const storage = await createStorage(name, driverOptions);
  return {
    storage,
    bucket: options.bucket ?? defaults.bucket,
    label: storageLabel(storage),
    close: async () => storage.close?.(),
  };
}

/** A printable description of a driver: its name and where it points, never credentials. */
export function storageLabel(storage: StorageDriver): string {
  return storageDefinition(storage.name)?.describe?.(storage.config.options as never) ?? storage.name;
}

/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a value as indented JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a positive integer flag, naming the flag when it is not one. */
export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`, { keyPath: flag });
  return n;
}

/** Left-aligned columns with a header row (the last column may run long). */
export function columns(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** A local date-time `2025-01-31 14:05:09` of epoch ms, or '' when unknown. */
export function dateTime(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Loads the configuration, opens its storage, runs `body` and closes the storage. */
export async function withStorage<T>(
  flags: { config?: string },
  body: (opened: OpenedStorage) => Promise<T>,
  overrides: FlagOverrides = {},
): Promise<T> {
  const loaded = await loadCliConfig(flags, overrides);
  const opened = await openStorage(loaded.options);
  try {
    return await body(opened);
  } finally {
    await opened.close();
  }
}
