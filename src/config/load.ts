/**
 * Where the configuration comes from. Layers, each overriding the one before:
 *
 * 1. one config file, the first found of: the `config` option, `BURST_CONFIG` (the whole config as
 *    JSON), `BURST_CONFIG_FILE`, `./burst.config.json`, `./burst.config.ts`, `./burst.config.js`,
 *    `~/.burst/config.json`;
 * 2. environment variables for single keys (`BURST_WORKERS=8`, `BURST_S3_ENDPOINT=...`);
 * 3. the constructor's options (merged by the caller with {@link mergeConfig}).
 *
 * JSON files may hold comments and trailing commas (as tsconfig.json). Every layer is validated on
 * its own, so an error names the file or variable, the key path and what was expected. Unknown keys
 * are dropped with a warning that suggests the nearest known key. With nothing configured this loads
 * nothing (not even the schema library) and warns about nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { redactConfig as redactAll } from '../redact.js';
import { executorStorageDrivers } from '../storage/registry.js';
import {
  KNOWN_KEYS,
  configSchema,
  dropUnknownKeys,
  isSecretKey,
  sectionKeys,
  type BurstConfig,
  type KeyKind,
} from './schema.js';
import { backendNames } from '../backends/index.js';

/** Options of {@link loadConfig} and {@link loadConfigSync}. */
export interface LoadConfigOptions {
  /** Folder searched for `burst.config.*`. @default process.cwd() */
  cwd?: string;
  /** The environment to read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** An explicit config file (the executor's `config` option); it must exist. */
  file?: string;
}

/** The configuration found, validated, with where each key came from. */
export interface LoadedConfig {
  /** The merged file and environment layers (not the built-in defaults). */
  options: BurstConfig;
  /** The config file used, `'BURST_CONFIG'` for the inline variable, or undefined when none. */
  file?: string;
  /** Where each set key came from, by dotted key path: a file path or an environment variable name. */
  origins: Record<string, string>;
  /** Unknown keys and other things the user should know, one sentence each. */
  warnings: string[];
}

/** Environment variables that set one key each (besides the `BURST_S3_*` and `BURST_FS_*` families). */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  BURST_BACKEND: 'backend',
  BURST_STORAGE: 'storage',
  BURST_BUCKET: 'bucket',
  BURST_WORKERS: 'workers',
  BURST_TIMEOUT: 'timeout',
  BURST_RETRIES: 'retries',
  BURST_RUNTIME_MEMORY: 'runtimeMemory',
  BURST_PROGRESS: 'progress',
  BURST_LOCALHOST_CHANNEL: 'localhost.channel',
  BURST_LOCALHOST_ISOLATION: 'localhost.isolation',
  BURST_REDIS_URL: 'redis.url',
  BURST_REDIS_WORKER_URL: 'redis.workerUrl',
  BURST_PRIMITIVES: 'primitives',
};

/** File names looked up in the working folder, in order. */
export const CONFIG_FILE_NAMES = ['burst.config.json', 'burst.config.ts', 'burst.config.js'] as const;

interface Found {
  /** A path, or 'BURST_CONFIG'. */
  label: string;
  kind: 'json' | 'module' | 'inline';
  text?: string;
  /** Where the label points the user for its key paths, e.g. 'environment variable BURST_CONFIG'. */
  where: string;
}

/**
 * Loads the configuration synchronously (for the FunctionExecutor constructor). Config modules
 * (`.ts`, `.js`) are loaded through tsx's synchronous require; one that needs top-level await must be
 * loaded with {@link loadConfig}.
 */
export function loadConfigSync(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const found = findConfig(options, env, warnings);
  const raw = found ? readSync(found) : undefined;
  return finish(found, raw, env, warnings);
}

/** Loads the configuration; config modules may use top-level await. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const found = findConfig(options, env, warnings);
  let raw: unknown;
  if (found?.kind === 'module') {
    raw = await importModule(found.label);
  } else if (found) {
    raw = readSync(found);
  }
  return finish(found, raw, env, warnings);
}

/**
 * Deep-merges `override` over `base`: plain objects merge key by key, anything else (arrays, driver
 * and backend instances) replaces; undefined values of `override` are skipped.
 */
export function mergeConfig<A extends object, B extends object>(base: A, override: B): A & B {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? mergeConfig(prev, v) : v;
  }
  return out as A & B;
}

/**
 * A copy of `config` safe to print: secret keys, sensitive header values, `env` values and secrets in
 * URLs replaced by `'***'` (the rules live in src/redact.ts).
 */
export function redactConfig<T>(config: T): T {
  return redactAll(config);
}

const reported = new Set<string>();

/** Writes each warning once per process to stderr, prefixed `burst: `. */
export function reportConfigWarnings(
  warnings: readonly string[],
  write: (line: string) => void = (l) => process.stderr.write(l),
): void {
  for (const w of warnings) {
    if (reported.has(w)) continue;
    reported.add(w);
    write(`burst: warning: ${w}\n`);
  }
}

/** The config file that would be used, without reading it; undefined when none. */
export function configFilePath(options: LoadConfigOptions = {}): string | undefined {
  return findConfig(options, options.env ?? process.env, [])?.label;
}

/** The places searched for a config file, in order (for messages and `burst config path`). */
export function configSearchPath(options: LoadConfigOptions = {}): string[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  return [
    ...(env.BURST_CONFIG ? ['$BURST_CONFIG (inline JSON)'] : []),
    ...(env.BURST_CONFIG_FILE ? [`$BURST_CONFIG_FILE (${env.BURST_CONFIG_FILE})`] : []),
    ...CONFIG_FILE_NAMES.map((n) => join(cwd, n)),
    userConfigPath(env),
  ];
}

/** `~/.burst/config.json` for this environment. */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME || homedir(), '.burst', 'config.json');
}

function findConfig(o: LoadConfigOptions, env: NodeJS.ProcessEnv, warnings: string[]): Found | undefined {
  const cwd = o.cwd ?? process.cwd();
  if (o.file !== undefined) return explicit(resolve(cwd, o.file), 'the config option');
  if (env.BURST_CONFIG !== undefined && env.BURST_CONFIG.trim() !== '') {
    return {
      label: 'BURST_CONFIG',
      kind: 'inline',
      text: env.BURST_CONFIG,
      where: 'environment variable BURST_CONFIG',
    };
  }
  if (env.BURST_CONFIG_FILE) return explicit(resolve(cwd, env.BURST_CONFIG_FILE), 'BURST_CONFIG_FILE');
  const local = CONFIG_FILE_NAMES.map((n) => join(cwd, n)).filter((p) => existsSync(p));
  if (local.length > 1)
    warnings.push(`several config files in ${cwd}: using ${local[0]}, ignoring ${local.slice(1).join(', ')}`);
  const path = local[0] ?? (existsSync(userConfigPath(env)) ? userConfigPath(env) : undefined);
  return path ? fileFound(path) : undefined;
}

function explicit(path: string, by: string): Found {
  if (!existsSync(path))
    throw new ConfigError(`cannot read the config file ${path} (from ${by}): it does not exist`, { keyPath: 'config' });
  return fileFound(path);
}

function fileFound(path: string): Found {
  const json = /\.json$/i.test(path);
  if (!json && !/\.[cm]?[jt]s$/i.test(path)) {
    throw new ConfigError(`the config file ${path} must be .json, .ts or .js`, { keyPath: 'config' });
  }
  return { label: path, kind: json ? 'json' : 'module', where: path };
}

function readSync(found: Found): unknown {
  if (found.kind === 'module') return requireModule(found.label);
  let text = found.text;
  if (text === undefined) {
    try {
      text = readFileSync(found.label, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read the config file ${found.label}: ${(err as Error).message}`, {
        keyPath: 'config',
        cause: err,
      });
    }
  }
  return parseJsonc(text, found.kind === 'inline' ? found.where : `the config file ${found.label}`);
}

/** Parses JSON that may hold `//` and block comments and trailing commas; errors give line and column. */
export function parseJsonc(text: string, where: string): unknown {
  const clean = stripJsonc(text);
  try {
    return JSON.parse(clean);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    let at = '';
    if (m) {
      const before = clean.slice(0, Number(m[1]));
      const line = before.split('\n').length;
      at = ` at line ${line}, column ${Number(m[1]) - before.lastIndexOf('\n')}`;
    }
    // V8 may quote a snippet of the text, which could hold a secret: keep only the reason.
    const why = (err as Error).message
      .replace(/,? (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '')
      .replace(/ (in JSON )?at position \d+.*$/s, '');
    throw new ConfigError(`${where} is not valid JSON${at}: ${why}`, { keyPath: 'config', cause: err });
  }
}

/** Blanks out comments and trailing commas, keeping every other character where it was. */
function stripJsonc(text: string): string {
  const out = text.split('');
  let i = 0;
  let lastComma = -1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
      lastComma = -1;
    } else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      const end = text[i + 1] === '/' ? text.indexOf('\n', i) : text.indexOf('*/', i + 2) + 2;
      const stop = end <= 1 || end === -1 ? text.length : end;
      for (let j = i; j < stop; j++) if (out[j] !== '\n') out[j] = ' ';
      i = stop;
    } else {
      if (c === ',') lastComma = i;
      else if ((c === '}' || c === ']') && lastComma >= 0) out[lastComma] = ' ';
      if (c !== undefined && !/\s/.test(c) && c !== ',') lastComma = -1;
      i++;
    }
  }
  return out.join('');
}

const requireCjs = createRequire(import.meta.url);

function requireModule(path: string): unknown {
  let mod: unknown;
  try {
    const api = requireCjs('tsx/cjs/api') as { require: (id: string, from: string) => unknown };
    mod = api.require(path, import.meta.url);
  } catch (err) {
    throw new ConfigError(`cannot load the config module ${path}: ${(err as Error).message}`, {
      keyPath: 'config',
      cause: err,
    });
  }
  const value = moduleValue(mod);
  if (value instanceof Promise) {
    throw new ConfigError(
      `the config module ${path} exports a promise; the FunctionExecutor constructor needs a plain object (use await only through \`burst\` commands)`,
      { keyPath: 'config' },
    );
  }
  return value;
}

async function importModule(path: string): Promise<unknown> {
  try {
    const { tsImport } = await import('tsx/esm/api');
    return await moduleValue(await tsImport(pathToFileURL(path).href, import.meta.url));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot load the config module ${path}: ${(err as Error).message}`, {
      keyPath: 'config',
      cause: err,
    });
  }
}

/** The default export (unwrapping CJS interop), called when it is a function. */
function moduleValue(mod: unknown): unknown {
  let v = mod as { default?: unknown } | undefined;
  for (let i = 0; i < 2 && isObject(v) && 'default' in v; i++) v = v.default as { default?: unknown };
  return typeof v === 'function' ? (v as () => unknown)() : v;
}

function finish(found: Found | undefined, raw: unknown, env: NodeJS.ProcessEnv, warnings: string[]): LoadedConfig {
  const origins: Record<string, string> = {};
  let options: BurstConfig = {};
  if (found) {
    if (!isPlainObject(raw))
      throw new ConfigError(`${found.where} must hold an object of options, got ${kindOf(raw)}`, { keyPath: 'config' });
    options = validate(raw, () => found.where, warnings);
    for (const p of leafPaths(options)) origins[p] = found.label;
  }
  const fromEnv = envLayer(env);
  if (fromEnv.names.size > 0) {
    const layer = validate(
      fromEnv.values,
      (path) => `environment variable ${fromEnv.names.get(path) ?? [...fromEnv.names.values()].join(', ')}`,
      warnings,
    );
    options = mergeConfig(options, layer);
    for (const [p, name] of fromEnv.names) origins[p] = name;
  }
  return { options, ...(found ? { file: found.label } : {}), origins, warnings };
}

/** Reads the single-key variables into a config object, converting strings by the key's kind. */
function envLayer(env: NodeJS.ProcessEnv): { values: Record<string, unknown>; names: Map<string, string> } {
  const values: Record<string, unknown> = {};
  const names = new Map<string, string>();
  const set = (name: string, path: string, kind: KeyKind, text: string): void => {
    const [a, b] = path.split('.') as [string, string | undefined];
    const value = fromEnvText(text, kind);
    if (b === undefined) values[a] = value;
    else values[a] = { ...(values[a] as object | undefined), [b]: value };
    names.set(path, name);
  };
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || text === '' || !name.startsWith('BURST_')) continue;
    const path = ENV_KEYS[name] ?? familyKey(name) ?? backendEnvKey(name);
    if (!path) continue;
    const [a, b] = path.split('.') as [string, string | undefined];
    const kind = (b === undefined ? KNOWN_KEYS['']?.[a] : sectionKeys(a)?.[b]) ?? 'string';
    set(name, path, kind, text);
  }
  return { values, names };
}

/** `BURST_S3_CONNECT_TIMEOUT_MS` → `s3.connectTimeoutMs`, for known keys of the storage sections (fs, s3) only. */
function familyKey(name: string): string | undefined {
  const m = /^BURST_([A-Z0-9]+)_([A-Z0-9_]+)$/.exec(name);
  if (!m) return undefined;
  const section = (m[1] as string).toLowerCase();
  if (!executorStorageDrivers().some((d) => d.name === section)) return undefined;
  const key = (m[2] as string).toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const known = Object.keys(KNOWN_KEYS[section] ?? {}).find((k) => k.toLowerCase() === key.toLowerCase());
  return known ? `${section}.${known}` : undefined;
}

/**
 * `BURST_SLURM_PARTITION` → `slurm.partition`, `BURST_AWS_LAMBDA_FUNCTION_TIMEOUT` →
 * `aws_lambda.functionTimeout`: a known key of a registered backend's section (from its schema).
 */
function backendEnvKey(name: string): string | undefined {
  for (const backend of backendNames()) {
    const prefix = `BURST_${backend.toUpperCase()}_`;
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length).toLowerCase().replace(/_/g, '');
    const known = Object.keys(sectionKeys(backend) ?? {}).find((k) => k.toLowerCase() === key);
    if (known) return `${backend}.${known}`;
  }
  return undefined;
}

function fromEnvText(text: string, kind: KeyKind): unknown {
  const t = text.trim();
  if (kind === 'number') return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
  if (kind === 'boolean') return /^(true|1|yes|on)$/i.test(t) ? true : /^(false|0|no|off)$/i.test(t) ? false : text;
  if (kind === 'string[]') return t === '' ? [] : t.split(',').map((s) => s.trim());
  if (kind === 'object') {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** Drops unknown keys (with a warning) and checks types; `where(path)` names the source of a key. */
function validate(raw: Record<string, unknown>, where: (path: string) => string, warnings: string[]): BurstConfig {
  const before = warnings.length;
  const clean = dropUnknownKeys(raw, '', where, warnings);
  const result = configSchema().safeParse(clean);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const value = valueAt(clean, issue.path);
    const got = issue.path.some((p) => isSecretKey(String(p)))
      ? 'a value (not shown: it is a secret)'
      : describe(value);
    const expected = /^Invalid|^Unrecognized/.test(issue.message) ? issue.message : `must be ${issue.message}`;
    return `${where(path)}: ${path || '(top level)'} ${expected}, got ${got}`;
  });
  lines.push(...warnings.slice(before).map((w) => `(also: ${w})`));
  throw new ConfigError(lines.join('\n'), { keyPath: result.error.issues[0]?.path.map(String).join('.') ?? '' });
}

function leafPaths(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    isPlainObject(v) && Object.keys(v).length > 0 ? leafPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function valueAt(o: unknown, path: readonly PropertyKey[]): unknown {
  let v = o;
  for (const p of path) v = isObject(v) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (v === undefined) return 'nothing';
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v;
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!isObject(v) || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
