/**
 * Bundles cached across runs (client side): a second run of the same, unchanged script ships the
 * bundle the first run built, without parsing the script again or starting esbuild.
 *
 * An entry is keyed by what the bundle was made from (the function's script source, its position,
 * the packaging options, this Burst version and the main script) and records the sha256 of every
 * file esbuild read (its metafile's inputs). It is used only when each of those files still has the
 * same content; any edit, to the script or to anything it imports, rebuilds. Entries live in the
 * private (0700, owner-checked) bundle folder of load.ts, under `client/`. `BURST_BUNDLE_CACHE=0`
 * turns the cache off.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VERSION } from '../version.js';
import { privateBundleDir } from './load.js';
import { sha256Hex } from './hash.js';

/** What a cache entry restores. */
export interface CachedBundle {
  hash: string;
  code: string;
  description: string;
  externals: string[];
  packageRoot?: string;
  commonjs?: { hash: string; code: string };
}

interface Entry {
  format: 1;
  /** sha256 of each file the bundle was built from, by absolute path. */
  inputs: Record<string, string>;
  bundle: CachedBundle;
}

const enabled = (): boolean => process.env.BURST_BUNDLE_CACHE !== '0';

/**
 * Changes when bundle() writes something else for the same files and options, so that a cached
 * bundle from before is not reused (2: redundant keepNames calls removed, ./names.ts; 3: those after
 * declarations and in static blocks too; 4: a CommonJS twin for the local pool).
 */
const BUNDLER_REVISION = 4;

/** The cache key of one packaging: every argument that can change the bundle other than file contents. */
export function bundleCacheKey(parts: readonly unknown[]): string {
  return sha256Hex(JSON.stringify([VERSION, BUNDLER_REVISION, ...parts]));
}

async function entryPath(key: string): Promise<string> {
  const dir = join(await privateBundleDir(), 'client');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${key}.json`);
}

async function fileHash(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    return undefined;
  }
}

/** The cached bundle for `key` when every file it was built from is unchanged; else undefined. */
export async function readCachedBundle(key: string): Promise<CachedBundle | undefined> {
  if (!enabled()) return undefined;
  try {
    const entry = JSON.parse(await readFile(await entryPath(key), 'utf8')) as Entry;
    const { bundle } = entry;
    if (entry.format !== 1 || sha256Hex(bundle.code) !== bundle.hash) return undefined;
    if (bundle.commonjs && sha256Hex(bundle.commonjs.code) !== bundle.commonjs.hash) return undefined;
    const paths = Object.keys(entry.inputs);
    const now = await Promise.all(paths.map(fileHash));
    return paths.every((p, i) => now[i] === entry.inputs[p]) ? entry.bundle : undefined;
  } catch {
    return undefined; // no entry, or an unreadable one: build
  }
}

/** Records `bundle` under `key` with the hashes of the files it was built from (best effort). */
export async function writeCachedBundle(
  key: string,
  bundle: CachedBundle,
  inputFiles: readonly string[],
): Promise<void> {
  if (!enabled()) return;
  try {
    const hashes = await Promise.all(inputFiles.map(fileHash));
    if (hashes.some((h) => h === undefined)) return; // a file vanished meanwhile: do not cache
    const entry: Entry = {
      format: 1,
      inputs: Object.fromEntries(inputFiles.map((p, i) => [p, hashes[i] as string])),
      bundle,
    };
    const file = await entryPath(key);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(entry), { mode: 0o600 });
    await rename(tmp, file).catch(async (err: unknown) => {
      await rm(tmp, { force: true });
      throw err;
    });
  } catch {
    // The cache is an optimisation: a full disk or a read-only folder must not fail the map.
  }
}
