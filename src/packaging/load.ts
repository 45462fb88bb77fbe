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
import { existsSync, lstatSync, readFileSync, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
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

/** Where {@link writeBundle} puts a bundle, and how: a CommonJS bundle is written `<hash>.cjs`. */
export interface WriteBundleOptions extends LoadBundleOptions {
  commonjs?: boolean;
}

const loadedByHash = new Map<string, Promise<LoadedFunction>>();
/** The private folder actually used for each intended cache folder (a fallback when it was unsafe). */
const privateDirs = new Map<string, Promise<string>>();
const loadedByPath = new Map<string, Promise<LoadedFunction>>();

/**
 * The folder where bundles are cached: `<runtimeDir>/node_modules/.cache/burst/functions` when
 * `runtimeDir` has a `node_modules` folder, else `<os.tmpdir()>/burst-functions-<uid>`.
 */
export function bundleCacheDir(runtimeDir?: string): string {
  // The folder is checked (owner, mode 0700) before use by privateBundleDir.
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
export function loadBundle(
  hash: string,
  code: Uint8Array | string,
  options: LoadBundleOptions = {},
): Promise<LoadedFunction> {
  const cached = loadedByHash.get(hash);
  if (cached) return cached;
  const loading = writeBundle(hash, code, options).then((file) =>
    importDefaultFunction(file, `function bundle ${hash}`),
  );
  remember(loadedByHash, hash, loading);
  return loading;
}

/**
 * Verifies that sha256(`code`) is `hash` and writes the code atomically into the private bundle cache
 * folder (skipped when an intact copy is there); returns the file's path, for processes that import it.
 * @throws IntegrityError when `hash` is not a sha256 hex digest or the code does not match it.
 */
export async function writeBundle(
  hash: string,
  code: Uint8Array | string,
  options: WriteBundleOptions = {},
): Promise<string> {
  const bytes = typeof code === 'string' ? Buffer.from(code, 'utf8') : code;
  checkIntegrity(hash, bytes);
  for (let attempt = 1; ; attempt++) {
    const dir = await privateBundleDir(options.runtimeDir);
    const file = join(dir, `${hash}${options.commonjs ? '.cjs' : '.mjs'}`);
    try {
      await writeOnce(dir, file, hash, bytes);
      return file;
    } catch (err) {
      // The folder was removed under a long-running process (a temp cleaner): check and create it again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 1) throw err;
      privateDirs.delete(bundleCacheDir(options.runtimeDir));
    }
  }
}

/**
 * The path of an intact cached copy of bundle `hash`, or undefined when there is none (or it was
 * altered: the caller then brings the bundle again from storage).
 * @throws IntegrityError when `hash` is not a sha256 hex digest (it is never used as a path then).
 */
export async function cachedBundle(hash: string, runtimeDir?: string): Promise<string | undefined> {
  assertBundleHash(hash);
  const file = join(await privateBundleDir(runtimeDir), `${hash}.mjs`);
  return (await isIntact(file, hash)) ? file : undefined;
}

/**
 * Imports an already-written bundle file `<hash>.mjs` (or requires `<hash>.cjs`) and returns its default export (the localhost
 * fast path and the worker processes of `burst worker run`). Before the import, the file's folder must
 * be private to this user and the content must be `expected` (the code the pool sent), or without it
 * hash to the name: a file altered since it was written is refused, never run. Cached in-process by path.
 * @throws IntegrityError when the file is not named by a hash, its folder is not private, or its content was altered.
 * @throws PackagingError when the file's default export is not a function.
 */
export function loadBundleFile(path: string, expected?: string): Promise<LoadedFunction> {
  const cached = loadedByPath.get(path);
  if (cached) return cached;
  // Synchronous reads: a worker does nothing else until its function is loaded, and node:fs/promises
  // (like node:crypto, which `expected` spares) costs a fresh thread milliseconds to load.
  const loading = new Promise<Buffer>((resolve) => resolve(verifyFile(path, expected))).then((bytes) =>
    importDefaultFunction(path, `function bundle ${path}`, bytes),
  );
  remember(loadedByPath, path, loading);
  return loading;
}

/** The file's bytes, once its folder and content are checked. */
function verifyFile(path: string, expected: string | undefined): Buffer {
  const name = basename(path);
  const hash = name.endsWith('.mjs') || name.endsWith('.cjs') ? name.slice(0, -4) : name;
  assertBundleHash(hash);
  let folder: Stats | Error;
  try {
    folder = lstatSync(dirname(path));
  } catch (err) {
    folder = err as Error;
  }
  const problem = problemOf(folder);
  if (problem) throw new IntegrityError(`refusing to import function bundle ${path}: its folder ${problem}`);
  const bytes = readFileSync(path);
  if (expected !== undefined ? !bytes.equals(Buffer.from(expected)) : sha256Hex(bytes) !== hash) {
    const found = expected !== undefined ? 'is not the code the pool sent' : `hashes to ${sha256Hex(bytes)}`;
    throw new IntegrityError(
      `refusing to import function bundle ${path}: it was altered after it was written (its content ${found})`,
    );
  }
  return bytes;
}

/** Throws unless `hash` is 64 lowercase hex digits: checked before the hash is used in any path or key. */
export function assertBundleHash(hash: unknown): asserts hash is string {
  if (typeof hash !== 'string' || !BUNDLE_HASH_PATTERN.test(hash)) {
    throw new IntegrityError(
      `function bundle hash ${JSON.stringify(hash)?.slice(0, 100)} is not a sha256 hex digest (64 lowercase hex digits)`,
    );
  }
}

/**
 * The bundle cache folder to use: {@link bundleCacheDir}, created with mode 0700 when missing, or
 * made 0700 when it is ours. When it belongs to another user or is not a real folder, it is left
 * alone and a fresh private folder (`mkdtemp`, removed at exit) is used instead, with a warning: a
 * folder someone else controls could swap a bundle between its check and its import.
 */
export function privateBundleDir(runtimeDir?: string): Promise<string> {
  const intended = bundleCacheDir(runtimeDir);
  let dir = privateDirs.get(intended);
  if (!dir) {
    dir = choosePrivateDir(intended);
    privateDirs.set(intended, dir);
    dir.catch(() => privateDirs.delete(intended));
  }
  return dir;
}

async function choosePrivateDir(intended: string): Promise<string> {
  await mkdir(dirname(intended), { recursive: true });
  await mkdir(intended, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  let problem = await folderProblem(intended);
  if (problem?.startsWith('has mode')) {
    await chmod(intended, 0o700); // ours: tighten it (contents are re-hashed before every import anyway)
    problem = await folderProblem(intended);
  }
  if (!problem) return intended;
  const fallback = await mkdtemp(`${intended}-`).catch(() =>
    mkdtemp(join(tmpdir(), `burst-functions-${currentUser()}-`)),
  );
  process.once('exit', () => rmSync(fallback, { recursive: true, force: true }));
  process.emitWarning(
    `the function bundle cache ${intended} ${problem}; using the private folder ${fallback} for this process instead. Remove ${intended} to cache bundles across runs again.`,
    { code: 'BURST_BUNDLE_CACHE' },
  );
  return fallback;
}

/** Why `dir` is not a private folder of this user, or undefined when it is one. */
async function folderProblem(dir: string): Promise<string | undefined> {
  return problemOf(await lstat(dir).catch((err: Error) => err));
}

/** Why a folder with these stats (or whose lstat failed so) is not private to this user, if it is not. */
function problemOf(s: Stats | Error): string | undefined {
  if (s instanceof Error) return `cannot be checked (${s.message})`;
  if (s.isSymbolicLink()) return 'is a symbolic link';
  if (!s.isDirectory()) return 'is not a folder';
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid === undefined) return undefined; // Windows: no POSIX owner or mode to check
  const mode = `0${(s.mode & 0o777).toString(8)}`;
  if (s.uid !== uid) return `is owned by uid ${s.uid} (mode ${mode}), not by this user (uid ${uid})`;
  if ((s.mode & 0o077) !== 0) return `has mode ${mode}, not 0700`;
  return undefined;
}

function checkIntegrity(hash: string, bytes: Uint8Array): void {
  assertBundleHash(hash);
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
  const temp = join(dir, `.${hash}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
  } finally {
    await handle.close();
  }
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

async function importDefaultFunction(file: string, what: string, code?: Uint8Array): Promise<LoadedFunction> {
  await provideSelf(file, code);
  // A CommonJS bundle is required: no ES module loader to start in a fresh thread (packaging/bundle.ts).
  const module = (file.endsWith('.cjs') ? createRequire(file)(file) : await import(pathToFileURL(file).href)) as {
    default?: unknown;
  };
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
