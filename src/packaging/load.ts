/**
 * Worker side of function shipping: verify a bundle against its content hash, write it once into a
 * cache folder, import it and hand back its default export.
 *
 * This file runs in workers, so it imports only Node built-ins and Burst's error classes: never
 * esbuild, acorn, the inspector or any other client-side module.
 *
 * Where the bundle lands matters: under `<runtimeDir>/node_modules/.cache/burst/functions/` a bare
 * `import 'sharp'` of a package left external resolves from the runtime's own `node_modules`, because
 * Node looks for packages in every `node_modules` folder above the importing file.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { IntegrityError, PackagingError } from '../errors.js';
import { BUNDLE_HASH_PATTERN, sha256Hex } from './hash.js';
import { provideSelf } from '../worker/self-resolve.js';

/** A shipped user function, as loaded by a worker. */
export type LoadedFunction = (...args: unknown[]) => unknown;

/** Options of {@link loadBundle}. */
export interface LoadBundleOptions {
  /**
   * The runtime's folder: when it has a `node_modules`, bundles are written below it so that external
   * packages resolve from there.
   * @default undefined (a per-user temporary folder)
   */
  runtimeDir?: string;
}

const loadedByHash = new Map<string, Promise<LoadedFunction>>();
const loadedByPath = new Map<string, Promise<LoadedFunction>>();

/**
 * The folder where bundles are cached: `<runtimeDir>/node_modules/.cache/burst/functions` when
 * `runtimeDir` has a `node_modules` folder, else `<os.tmpdir()>/burst-functions-<uid>`.
 */
export function bundleCacheDir(runtimeDir?: string): string {
  if (runtimeDir !== undefined && existsSync(join(runtimeDir, 'node_modules'))) {
    return join(runtimeDir, 'node_modules', '.cache', 'burst', 'functions');
  }
  return join(tmpdir(), `burst-functions-${currentUser()}`);
}

/**
 * Verifies that sha256(`code`) is `hash`, writes the code atomically into {@link bundleCacheDir}
 * (skipped when an intact copy is already there), imports it and returns its default export.
 * Results are cached in-process by hash, so a warm worker pays for this once per function.
 * @throws IntegrityError when the code does not match `hash`.
 * @throws PackagingError when the bundle's default export is not a function.
 */
export function loadBundle(hash: string, code: Uint8Array | string, options: LoadBundleOptions = {}): Promise<LoadedFunction> {
  const cached = loadedByHash.get(hash);
  if (cached) return cached;
  const loading = writeBundle(hash, code, options).then((file) => importDefaultFunction(file, `function bundle ${hash}`));
  remember(loadedByHash, hash, loading);
  return loading;
}

/**
 * Verifies that sha256(`code`) is `hash` and writes the code atomically into {@link bundleCacheDir}
 * (skipped when an intact copy is there); returns the file's path, for processes that import it.
 * @throws IntegrityError when the code does not match `hash`.
 */
export async function writeBundle(hash: string, code: Uint8Array | string, options: LoadBundleOptions = {}): Promise<string> {
  const bytes = typeof code === 'string' ? Buffer.from(code, 'utf8') : code;
  checkIntegrity(hash, bytes);
  const dir = bundleCacheDir(options.runtimeDir);
  const file = join(dir, `${hash}.mjs`);
  await writeOnce(dir, file, hash, bytes);
  return file;
}

/**
 * Imports an already-written bundle file and returns its default export (the localhost fast path:
 * the client wrote the file, so there is nothing to verify or copy). Cached in-process by path.
 * @throws PackagingError when the file's default export is not a function.
 */
export function loadBundleFile(path: string): Promise<LoadedFunction> {
  const cached = loadedByPath.get(path);
  if (cached) return cached;
  const loading = importDefaultFunction(path, `function bundle ${path}`);
  remember(loadedByPath, path, loading);
  return loading;
}

function checkIntegrity(hash: string, bytes: Uint8Array): void {
  if (!BUNDLE_HASH_PATTERN.test(hash)) {
    throw new IntegrityError(`function bundle hash "${hash}" is not a sha256 hex digest`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== hash) {
    throw new IntegrityError(`function bundle ${hash} failed its integrity check: its content hashes to ${actual}`);
  }
}

/**
 * Writes `bytes` to `file` unless an intact copy is there. Temp file + rename, so a concurrent
 * importer in another process sees either no file or the whole file, never a half-written one.
 */
async function writeOnce(dir: string, file: string, hash: string, bytes: Uint8Array): Promise<void> {
  if (await isIntact(file, hash)) return;
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${hash}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, bytes);
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    // Windows refuses to rename over a file another process holds open: fine if that copy is intact.
    if (!(await isIntact(file, hash))) throw error;
  }
}

async function isIntact(file: string, hash: string): Promise<boolean> {
  try {
    return sha256Hex(await readFile(file)) === hash;
  } catch {
    return false;
  }
}

async function importDefaultFunction(file: string, what: string): Promise<LoadedFunction> {
  await provideSelf(file);
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  const value = module.default;
  if (typeof value !== 'function') {
    const got = value === null ? 'null' : typeof value;
    throw new PackagingError(`${what} does not export a function as default (got ${got})`);
  }
  return value as LoadedFunction;
}

/** Caches a load, forgetting it if it fails so that a later attempt can retry. */
function remember(cache: Map<string, Promise<LoadedFunction>>, key: string, loading: Promise<LoadedFunction>): void {
  cache.set(key, loading);
  loading.catch(() => {
    if (cache.get(key) === loading) cache.delete(key);
  });
}

function currentUser(): string {
  if (typeof process.getuid === 'function') return String(process.getuid());
  try {
    return userInfo().username.replace(/[^\w.-]/g, '_');
  } catch {
    return 'user';
  }
}
