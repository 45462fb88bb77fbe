/**
 * Recognising npm packages that cannot be bundled because they load a compiled native addon (or a
 * platform-specific binary): those stay external and load from the runtime's own `node_modules`.
 * Client side only; results are cached per package folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, sep } from 'node:path';

/** The fields of package.json this module reads. */
export interface PackageJson {
  name?: string;
  type?: string;
  main?: string;
  gypfile?: boolean;
  binary?: unknown;
  napi?: unknown;
  os?: unknown;
  cpu?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Packages whose presence among the dependencies means "this package builds or loads a native addon". */
const NATIVE_LOADERS = new Set([
  'bindings',
  'node-gyp-build',
  'node-gyp-build-optional-packages',
  'prebuild-install',
  'node-pre-gyp',
  '@mapbox/node-pre-gyp',
  '@discordjs/node-pre-gyp',
  'node-addon-api',
  'nan',
  'cmake-js',
  '@neon-rs/load',
]);

/** Optional dependencies named for a platform (`@esbuild/linux-x64`, `@img/sharp-darwin-arm64`) carry binaries. */
const PLATFORM_PACKAGE = /(?:^|[-/.])(?:linux|darwin|win32|freebsd|openbsd|android|sunos|aix)(?:[-.]|$)/;

const packageJsons = new Map<string, PackageJson | null>();
const nativeByDir = new Map<string, boolean>();
const dirsByLookup = new Map<string, string | null>();

/** The package name of a bare specifier (`@scope/pkg/sub` → `@scope/pkg`), or undefined for paths, URLs and built-ins. */
export function packageNameOf(specifier: string): string | undefined {
  if (/^[./#]/.test(specifier) || /^[A-Za-z][\w+.-]*:/.test(specifier) || isBuiltin(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return name && !(specifier.startsWith('@') && parts.length < 2) ? name : undefined;
}

/** The folder of package `name` as Node would find it from `fromDir` (walking up `node_modules` folders). */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  const key = `${fromDir}\0${name}`;
  const cached = dirsByLookup.get(key);
  if (cached !== undefined) return cached ?? undefined;
  let found: string | undefined;
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        found = candidate;
        break;
      }
    }
    if (dirname(dir) === dir) break;
  }
  dirsByLookup.set(key, found ?? null);
  return found;
}

/** The folder holding the `node_modules` a package folder sits in (`/proj` for `/proj/node_modules/@a/b`). */
export function rootOfPackageDir(packageDir: string, name: string): string {
  return dirname(dirname(name.startsWith('@') ? dirname(packageDir) : packageDir));
}

/** The package (name and folder) a file inside `node_modules` belongs to. */
export function packageOfFile(file: string): { name: string; dir: string } | undefined {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length).split(sep);
  const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : rest[0];
  if (!name) return undefined;
  return { name, dir: join(file.slice(0, at + marker.length), ...name.split('/')) };
}

/** package.json of the package in `dir`, or undefined. */
export function readPackageJson(dir: string): PackageJson | undefined {
  let pkg = packageJsons.get(dir);
  if (pkg === undefined) {
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    } catch {
      pkg = null;
    }
    packageJsons.set(dir, pkg);
  }
  return pkg ?? undefined;
}

/**
 * True when the package in `dir` looks native: `gypfile`, node-pre-gyp's `binary` or napi-rs's `napi`
 * in package.json; a native loader or platform binaries among its dependencies; `os`/`cpu`
 * restrictions; or a `binding.gyp`, `prebuilds/`, `build/Release/` or `*.node` file in its folder.
 */
export function isNativePackage(dir: string): boolean {
  let native = nativeByDir.get(dir);
  if (native === undefined) {
    native = detectNative(dir);
    nativeByDir.set(dir, native);
  }
  return native;
}

function detectNative(dir: string): boolean {
  const pkg = readPackageJson(dir) ?? {};
  if (
    pkg.gypfile === true ||
    pkg.binary !== undefined ||
    pkg.napi !== undefined ||
    pkg.os !== undefined ||
    pkg.cpu !== undefined
  ) {
    return true;
  }
  const deps = [pkg.dependencies, pkg.optionalDependencies, pkg.peerDependencies].flatMap((d) => Object.keys(d ?? {}));
  if (deps.some((d) => NATIVE_LOADERS.has(d))) return true;
  if (Object.keys(pkg.optionalDependencies ?? {}).some((d) => PLATFORM_PACKAGE.test(d))) return true;
  if (['binding.gyp', 'prebuilds', join('build', 'Release')].some((f) => existsSync(join(dir, f)))) return true;
  try {
    return readdirSync(dir).some((f) => f.endsWith('.node'));
  } catch {
    return false;
  }
}

/** True when importing the package's main entry from ESM gives CommonJS (so named imports need `require`). */
export function isCommonJsPackage(dir: string): boolean {
  const pkg = readPackageJson(dir);
  if (!pkg) return false;
  return pkg.type !== 'module' && !(pkg.main ?? '').endsWith('.mjs');
}

/** The nearest folder at or above `dir` that has a `node_modules` folder, else one with a package.json. */
export function nearestProjectRoot(dir: string): string | undefined {
  let withPackageJson: string | undefined;
  for (let d = dir; ; d = dirname(d)) {
    if (basename(d) !== 'node_modules' && existsSync(join(d, 'node_modules'))) return d;
    if (withPackageJson === undefined && existsSync(join(d, 'package.json'))) withPackageJson = d;
    if (dirname(d) === d) return withPackageJson;
  }
}
