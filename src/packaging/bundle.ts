/**
 * Bundles an entry module with esbuild into one ESM file a worker can import without the client's
 * `node_modules`: npm packages are bundled in; Node built-ins, packages listed in `external` and native
 * addon packages stay external and resolve from the runtime's `node_modules` at load time.
 *
 * - A banner defines `require` (via `createRequire(import.meta.url)`), so bundled CommonJS can still
 *   `require()` built-ins and external packages. esbuild always renames user bindings called
 *   `require` in ESM output, so the banner cannot collide with them.
 * - `import.meta.url`/`dirname`/`filename` and CommonJS `__dirname`/`__filename` keep the values they
 *   have on the client (the original file's location), so code that reads files next to itself
 *   works on the same host. On another host such paths do not exist: ship such data another way.
 * - An external CommonJS package imported with `import` is loaded through `require` (a one-line shim
 *   module), because Node cannot see the named exports of a native addon's CommonJS module.
 * - Burst itself (`burst-compute`, imported, dynamically imported or required) is never bundled: it
 *   becomes a read of the API the worker publishes (see `worker/self-resolve.ts`), so a task uses the
 *   worker's own copy wherever the bundle file sits.
 * - The path rewrites work on the syntax tree (esbuild's `define`, per file), never inside strings,
 *   comments or template text, and leave local bindings named `__dirname` alone.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure, BuildOptions, Loader, Message, Plugin, PluginBuild } from 'esbuild';
import { PackagingError } from '../errors.js';
import { SELF_MARKER } from '../worker/self-resolve.js';
import {
  findPackageDir,
  isCommonJsPackage,
  isNativePackage,
  packageNameOf,
  packageOfFile,
  rootOfPackageDir,
} from './native.js';

/** What to bundle. */
export interface BundleRequest {
  /** Source of the entry module (ESM). */
  entry: string;
  /** Folder the entry's relative imports resolve from. */
  resolveDir: string;
  /** Name of the entry in messages and source maps (the original file when there is one). */
  sourcefile: string;
  /** Package names to leave external (their subpaths too). */
  external: readonly string[];
  /** Inline a source map (without sources) so remote stack traces can point at the original files. */
  sourceMap: boolean;
  /** What is being bundled, for error messages. */
  description: string;
  /** The file whose location `import.meta.url`/`__dirname`... of the entry itself stand for, if any. */
  pinPathsOf?: string;
}

/** A bundle and what it left out. */
export interface BundleOutput {
  code: string;
  /**
   * The same bundle as CommonJS, for the worker threads and processes of this machine's pool: Node
   * loads it without its ES module loader, which costs a fresh thread ~8 ms before its first call.
   * Absent when only ESM can carry the code: top-level await, an `import.meta` left unpinned, an
   * external package (it could be ESM-only) or a subpath of Burst itself.
   */
  commonjs?: string;
  /** Package names left external, sorted. */
  externals: string[];
  /** Folders whose `node_modules` the external packages were found in, nearest first. */
  externalRoots: string[];
  /** Absolute paths of the files esbuild read (from its metafile): the bundle cache hashes them. */
  inputs: string[];
}

const BANNER =
  'import { createRequire as __burstCreateRequire } from "node:module";\nconst require = __burstCreateRequire(import.meta.url);';
const SHIM_NAMESPACE = 'burst-external';
const SELF_NAMESPACE = 'burst-self';
/** This package's own name: shipped code gets the worker's copy instead of a bundled one. */
export const SELF_PACKAGE = 'burst-compute';
const SELF_MODULE =
  `var api = globalThis[Symbol.for(${JSON.stringify(SELF_MARKER)})];\n` +
  // internal: this line runs inside the user's bundle, outside any Burst worker, where no Burst classes exist.
  `if (api === undefined) throw new Error(${JSON.stringify(`this function imports "${SELF_PACKAGE}", but the process running it is not a Burst worker`)});\n` +
  'module.exports = api;\n';
const SOURCE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const MAX_NATIVE_RETRIES = 3;

/** Bundles `request.entry`. @throws PackagingError when esbuild fails (unresolvable import, syntax error...). */
export async function bundle(request: BundleRequest): Promise<BundleOutput> {
  const esbuild = await import('esbuild');
  // acorn (which names.ts parses with) loads only when something is bundled: a cached bundle needs neither.
  const { dropRedundantNames } = await import('./names.js');
  const discoveredNative = new Set<string>();
  for (let attempt = 0; ; attempt++) {
    const externals = new Map<string, string | undefined>();
    const selfSubpath = { seen: false };
    const before = discoveredNative.size;
    try {
      const options: BuildOptions = {
        stdin: {
          contents: request.entry,
          resolveDir: request.resolveDir,
          sourcefile: request.sourcefile,
          loader: 'js',
        },
        absWorkingDir: request.resolveDir,
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        keepNames: true,
        charset: 'utf8',
        legalComments: 'inline',
        sourcemap: request.sourceMap ? 'inline' : false,
        sourcesContent: false,
        // Source paths in the map are relative to resolveDir: anchor them there, so that remote stack
        // frames name the user's files instead of the bundle's cache folder.
        sourceRoot: `${pathToFileURL(request.resolveDir).href}/`,
        define: request.pinPathsOf === undefined ? {} : pathDefines(request.pinPathsOf),
        banner: { js: BANNER },
        logLevel: 'silent',
        metafile: true,
        plugins: [externalsPlugin(request.external, discoveredNative, externals, selfSubpath), pinnedPathsPlugin()],
      };
      const result = await esbuild.build(options);
      const code = dropRedundantNames(result.outputFiles?.[0]?.text ?? '');
      const names = [...externals.keys()].sort();
      const roots = [...new Set([...externals.values()].filter((r): r is string => r !== undefined))];
      roots.sort((a, b) => b.length - a.length);
      // Metafile inputs: file paths relative to absWorkingDir; other namespaces are written `ns:path`,
      // and the entry by its sourcefile name (`<stdin>`, `<burst entry>`, or the real file it stands for).
      const inputs = Object.keys(result.metafile?.inputs ?? {})
        .filter((p) => !/^<.*>$/.test(p) && !/^[\w-]+:/.test(p))
        .map((p) => resolve(request.resolveDir, p));
      const out: BundleOutput = { code, externals: names, externalRoots: roots, inputs };
      const twin = externals.size === 0 && !selfSubpath.seen ? await commonJsTwin(esbuild, options, result) : undefined;
      if (twin !== undefined) out.commonjs = dropRedundantNames(twin, 'script');
      return out;
    } catch (error) {
      const failure = error as Partial<BuildFailure>;
      if (discoveredNative.size > before && attempt < MAX_NATIVE_RETRIES) continue;
      throw new PackagingError(
        `cannot bundle ${request.description}:\n${formatMessages(failure.errors ?? [], error)}`,
        { cause: error },
      );
    }
  }
}

/**
 * {@link bundle}'s build again as CommonJS, strict throughout as the ES module is. Undefined when
 * esbuild refuses it (top-level await) or warns more than for the module (an `import.meta` it would
 * leave empty): the module is then what every worker loads.
 */
async function commonJsTwin(
  esbuild: typeof import('esbuild'),
  options: BuildOptions,
  esm: { warnings: Message[] },
): Promise<string | undefined> {
  try {
    const cjs = await esbuild.build({ ...options, format: 'cjs', banner: { js: '"use strict";' } });
    if (cjs.warnings.length > esm.warnings.length) return undefined;
    return cjs.outputFiles?.[0]?.text;
  } catch {
    return undefined;
  }
}

/** Leaves built-ins, listed packages and native packages external; records which packages it left out. */
function externalsPlugin(
  listed: readonly string[],
  discoveredNative: Set<string>,
  externals: Map<string, string | undefined>,
  selfSubpath: { seen: boolean },
): Plugin {
  const isListed = (name: string): boolean => listed.includes(name) || discoveredNative.has(name);
  return {
    name: 'burst-externals',
    setup(build: PluginBuild) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.namespace === SHIM_NAMESPACE) return { path: args.path, external: true };
        const name = packageNameOf(args.path);
        if (name === undefined) return undefined;
        if (name === SELF_PACKAGE) {
          if (args.path === SELF_PACKAGE) return { path: SELF_PACKAGE, namespace: SELF_NAMESPACE };
          selfSubpath.seen = true;
          return { path: args.path, external: true };
        }
        const dir = args.resolveDir ? findPackageDir(name, args.resolveDir) : undefined;
        if (!isListed(name) && !(dir && isNativePackage(dir))) return undefined;
        externals.set(name, externals.get(name) ?? (dir ? rootOfPackageDir(dir, name) : undefined));
        if (args.kind === 'import-statement' && dir && isCommonJsPackage(dir)) {
          return { path: args.path, namespace: SHIM_NAMESPACE };
        }
        return { path: args.path, external: true };
      });
      build.onLoad({ filter: /.*/, namespace: SELF_NAMESPACE }, () => ({ contents: SELF_MODULE, loader: 'js' }));
      build.onLoad({ filter: /.*/, namespace: SHIM_NAMESPACE }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});\n`,
        loader: 'js',
      }));
      // A .node file reached while bundling a package: that package is native after all. Fail this
      // build, and bundle() retries with the package external.
      build.onResolve({ filter: /\.node$/ }, (args) => {
        const owner = args.importer ? packageOfFile(args.importer) : undefined;
        if (owner) {
          discoveredNative.add(owner.name);
          return {
            errors: [{ text: `package "${owner.name}" loads the native addon "${args.path}"; it must stay external` }],
          };
        }
        return { path: resolve(args.resolveDir, args.path), external: true };
      });
    },
  };
}

/** Gives `import.meta.url`/`dirname`/`filename` and `__dirname`/`__filename` their client-side values. */
function pinnedPathsPlugin(): Plugin {
  return {
    name: 'burst-pinned-paths',
    setup(build: PluginBuild) {
      build.onLoad({ filter: SOURCE_FILE, namespace: 'file' }, async (args) => {
        const code = await readFile(args.path, 'utf8');
        const pinned = await pinModulePaths(code, args.path);
        return pinned === code ? undefined : { contents: pinned, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

const MENTIONS_PATHS = /\bimport\.meta\b|\b__(?:dirname|filename)\b/;

/** esbuild `define` entries that give the module at `file` its own location. */
function pathDefines(file: string): Record<string, string> {
  const dir = JSON.stringify(dirname(file));
  const name = JSON.stringify(file);
  return {
    'import.meta.url': JSON.stringify(pathToFileURL(file).href),
    'import.meta.filename': name,
    'import.meta.dirname': dir,
    __dirname: dir,
    __filename: name,
  };
}

/**
 * Replaces `import.meta.url`/`filename`/`dirname` and the free identifiers `__dirname`/`__filename`
 * of the module at `file` (TypeScript, JSX or JavaScript, by its extension) with `file`'s location.
 * Returns `code` unchanged when it mentions none of them; otherwise JavaScript with an inline source
 * map back to `file`. The rewrite is done by esbuild's parser: text in strings, comments and template
 * literals is left alone.
 */
export async function pinModulePaths(code: string, file: string): Promise<string> {
  if (!MENTIONS_PATHS.test(code)) return code;
  const esbuild = await import('esbuild');
  try {
    const out = await esbuild.transform(code, {
      loader: loaderOf(file),
      define: pathDefines(file),
      sourcefile: file,
      sourcemap: 'inline',
      sourcesContent: false,
      target: 'esnext',
      logLevel: 'silent',
    });
    return out.code;
  } catch {
    // A syntax error: let the bundler report it with its usual message.
    return code;
  }
}

function loaderOf(path: string): Loader {
  const ext = extname(path);
  if (ext === '.tsx') return 'tsx';
  if (ext === '.jsx') return 'jsx';
  return /^\.[cm]?ts$/.test(ext) ? 'ts' : 'js';
}

function formatMessages(messages: Message[], fallback: unknown): string {
  if (messages.length === 0) return String((fallback as Error)?.message ?? fallback);
  return messages
    .map((m) => {
      const at = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
      const hint = /^Could not resolve "([^"]+)"/.exec(m.text)
        ? ' (install it where the function is defined, or list the package in the external option to load it from the runtime)'
        : '';
      return `  ${at}${m.text}${hint}`;
    })
    .join('\n');
}
