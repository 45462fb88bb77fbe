/**
 * Function packaging: turns a function object into one content-addressed ESM bundle that a worker
 * (possibly on another host, possibly without the project's `node_modules`) can import.
 *
 * How it works:
 * 1. **Locate.** The V8 inspector of this process gives the function's `[[FunctionLocation]]` and the
 *    exact source V8 compiled for that script (for `.ts` under tsx: tsx's JavaScript output).
 * 2. **Choose an entry.** A function exported by an ordinary module (not the main script, no
 *    top-level `await`) is re-exported from that module, so the worker evaluates the module as the
 *    client did. Any other function (one of the main script, a non-exported one, an inline arrow)
 *    gets a virtual entry holding only the top-level declarations it needs (imports trimmed to the
 *    used names, functions, classes, variables; transitively), so the script's other top-level code
 *    never runs again in the workers.
 * 3. **Check captures.** A function that uses local variables of an enclosing function cannot be
 *    shipped: those values exist only in this process. It is rejected with a `PackagingError` naming
 *    them (`capturedVariables`), before anything runs.
 * 4. **Bundle.** esbuild bundles the entry with its imports, npm packages included. Node built-ins,
 *    packages in `options.external` and native-addon packages (detected automatically) stay external
 *    and load from the runtime's own `node_modules` (see `load.ts`). Burst itself is never bundled:
 *    the worker hands the function its own copy (`worker/self-resolve.ts`).
 * 5. **Name.** The bundle is named by the sha256 of its code. Results are cached per function object
 *    and per definition site, so packaging the same function again costs a map lookup.
 *
 * Limits:
 * - Top-level declarations a function needs are re-evaluated in the worker with their initial
 *   values: a module-level `let` the client mutates at run time is shipped with its initial value,
 *   and top-level statements that are not declarations (assignments, calls, `if` blocks) are not
 *   shipped with a virtual entry.
 * - Side-effect-only imports (`import './setup.js'`) of a script are kept in virtual entries.
 * - `import.meta.url` and `__dirname` keep their client-side values: files next to the code are
 *   found on the same host only.
 * - Bound functions, built-ins, class methods not reachable from a top-level binding, getters and
 *   functions that read a CommonJS main script's `module.exports` cannot be shipped.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, resolve } from 'node:path';
import { PackagingError } from '../errors.js';
import type { FunctionNode, ScriptAnalysis } from './analyze.js';
import { bundle } from './bundle.js';
import { bundleCacheKey, readCachedBundle, writeCachedBundle } from './bundle-cache.js';
import { sha256Hex } from './hash.js';
import { locateFunction, type FunctionLocation } from './locate.js';
import { nearestProjectRoot } from './native.js';
import { isNotebookCellSource, notebookNamespace } from './notebook-cell.js';

/** Options of {@link packageFunction}. */
export interface PackageOptions {
  /** Packages to leave out of the bundle, loaded from the runtime's own node_modules. @default [] */
  external?: string[];
  /**
   * Inline a source map (without sources) so that remote stack traces, with source maps enabled in
   * the worker, point at the original files.
   * @default true
   */
  sourceMap?: boolean;
}

/** A function ready to ship. */
export interface FunctionBundle {
  /** sha256 hex of `code`. */
  hash: string;
  /** ESM source whose default export is the user's function. */
  code: string;
  /** Human description for errors/logs: e.g. "addSeven (/abs/tasks.ts:2:17)". */
  description: string;
  /** Directory whose node_modules should resolve external packages (the function's package root), if any. */
  packageRoot?: string;
  /** Bare package names left external. */
  externals: string[];
  /**
   * The same function as a CommonJS bundle, which this machine's pool loads (without Node's ES module
   * loader); absent when only the ESM `code` can carry it (./bundle.ts). Storage and remote workers
   * always get `code`.
   */
  commonjs?: { hash: string; code: string };
}

const byFunction = new WeakMap<Function, Map<string, Promise<FunctionBundle>>>();
const bySite = new Map<string, Promise<FunctionBundle>>();
const analyses = new Map<string, ScriptAnalysis>();

/**
 * Packages `fn` with everything it imports into a content-addressed ESM bundle.
 * @throws PackagingError when `fn` cannot be shipped: it captures local variables of an enclosing
 *   function (named in `capturedVariables`), is bound or built-in, or its imports cannot be bundled.
 */
export function packageFunction(fn: Function, options: PackageOptions = {}): Promise<FunctionBundle> {
  if (typeof fn !== 'function') {
    return Promise.reject(new PackagingError(`expected a function to ship, got ${fn === null ? 'null' : typeof fn}`));
  }
  // In a tslab notebook a cell function's bundle depends on the current values of the names it uses.
  if (notebookNamespace() !== undefined) return packageInNotebook(fn, options);
  return packageCached(fn, options);
}

async function packageInNotebook(fn: Function, options: PackageOptions): Promise<FunctionBundle> {
  const location = await locateFunction(fn);
  if (!isNotebookCellSource(location.script.source)) return packageCached(fn, options);
  const { packageCellFunction } = await import('./notebook.js');
  return packageCellFunction(fn, location, {
    external: options.external ?? [],
    sourceMap: options.sourceMap ?? true,
    optionsKey: optionsKey(options),
  });
}

function packageCached(fn: Function, options: PackageOptions): Promise<FunctionBundle> {
  const key = optionsKey(options);
  let perOptions = byFunction.get(fn);
  if (!perOptions) byFunction.set(fn, (perOptions = new Map()));
  const cached = perOptions.get(key);
  if (cached) return cached;
  const packaging = (async () => {
    const location = await locateFunction(fn);
    const site = `${location.script.scriptId}:${location.offset}|${key}`;
    let atSite = bySite.get(site);
    if (!atSite) {
      atSite = packageAt(fn, location, options);
      bySite.set(site, atSite);
      atSite.catch(() => bySite.delete(site));
    }
    return atSite;
  })();
  perOptions.set(key, packaging);
  packaging.catch(() => perOptions.delete(key));
  return packaging;
}

async function packageAt(fn: Function, location: FunctionLocation, options: PackageOptions): Promise<FunctionBundle> {
  const { script, offset, where } = location;
  // Across runs: the same script, function and options give the same bundle while no file it was
  // built from changed (bundle-cache.ts checks them), without parsing or esbuild.
  const main = process.argv[1] ? safeRealpath(resolve(process.argv[1])) : '';
  const cacheKey = bundleCacheKey([
    sha256Hex(script.source),
    script.file ?? script.url,
    script.isModule,
    offset,
    where,
    fn.name,
    optionsKey(options),
    main,
  ]);
  const cached = await readCachedBundle(cacheKey);
  if (cached) return cached;
  // The parser and scope analyser load only when a bundle is built.
  const [{ analyzeScript, findFunctionAt }, { virtualEntry }] = await Promise.all([
    import('./analyze.js'),
    import('./entry.js'),
  ]);
  let analysis = analyses.get(script.scriptId);
  if (!analysis) {
    analysis = analyzeScript(script.source, script.isModule, where);
    analyses.set(script.scriptId, analysis);
  }
  const node = findFunctionAt(analysis, offset);
  const name = fn.name || (node && 'id' in node && node.id ? node.id.name : '') || 'anonymous function';
  const description = `${name} (${where})`;
  if (!node || !sourceMatches(fn, analysis, node)) {
    throw new PackagingError(`cannot ship ${description}: its source was not found where V8 reports it`);
  }
  const file = script.file;
  const reexport = file === undefined || isMainScript(file) ? undefined : await reexportOf(fn, analysis, node, file);
  const entry = reexport ?? virtualEntry(analysis, node, description);
  const output = await bundle({
    entry,
    ...(reexport || file === undefined ? {} : { pinPathsOf: file }),
    resolveDir: file ? dirname(file) : process.cwd(),
    sourcefile: reexport || file === undefined ? '<burst entry>' : file,
    external: options.external ?? [],
    sourceMap: options.sourceMap ?? true,
    description,
  });
  const result: FunctionBundle = {
    hash: sha256Hex(output.code),
    code: output.code,
    description,
    externals: output.externals,
  };
  if (output.commonjs !== undefined) result.commonjs = { hash: sha256Hex(output.commonjs), code: output.commonjs };
  const packageRoot = output.externalRoots[0] ?? (file ? nearestProjectRoot(dirname(file)) : undefined);
  if (packageRoot !== undefined) result.packageRoot = packageRoot;
  await writeCachedBundle(
    cacheKey,
    result,
    file && !reexport && !output.inputs.includes(file) ? [file, ...output.inputs] : output.inputs,
  );
  return result;
}

/** The re-export entry for `fn` when it is an export of the (non-main) module at `file`. */
async function reexportOf(
  fn: Function,
  analysis: ScriptAnalysis,
  node: FunctionNode,
  file: string,
): Promise<string | undefined> {
  const [{ accessPath }, { exportedName, reexportEntry }] = await Promise.all([
    import('./analyze.js'),
    import('./entry.js'),
  ]);
  if (!analysis.isModule) {
    const key = commonJsExportKey(fn, file);
    return key === undefined ? undefined : reexportEntry(file, key, [], false);
  }
  if (analysis.hasTopLevelAwait) return undefined;
  const path = accessPath(analysis, node);
  const exported = path && exportedName(analysis, path.root);
  return path && exported !== undefined ? reexportEntry(file, exported, path.keys, true) : undefined;
}

/** `'module.exports'` or the key under which the loaded CommonJS module at `file` exports `fn`. */
function commonJsExportKey(fn: Function, file: string): string | undefined {
  const exports: unknown = createRequire(import.meta.url).cache[file]?.exports;
  if (exports === fn) return 'module.exports';
  if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null) return undefined;
  for (const key of Object.keys(exports)) {
    try {
      if ((exports as Record<string, unknown>)[key] === fn) return key;
    } catch {
      // A throwing getter exports nothing we can use.
    }
  }
  return undefined;
}

/** True for the script Node was started with: importing it again would re-run its top-level code. */
function isMainScript(file: string): boolean {
  const main = process.argv[1];
  if (!main) return false;
  const candidates = new Set([resolve(main), safeRealpath(resolve(main))]);
  const real = safeRealpath(file);
  const stem = (p: string): string => p.slice(0, p.length - extname(p).length);
  return (
    candidates.has(file) ||
    candidates.has(real) ||
    (extname(main) === '' && (candidates.has(stem(file)) || candidates.has(stem(real))))
  );
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Guards against a mismatch between V8's position and the parsed source. */
function sourceMatches(fn: Function, analysis: ScriptAnalysis, node: FunctionNode): boolean {
  let text: string;
  try {
    text = Function.prototype.toString.call(fn);
  } catch {
    return true;
  }
  const body = node.body as unknown as { start: number; end: number };
  return text.endsWith(analysis.source.slice(body.start, node.end));
}

function optionsKey(options: PackageOptions): string {
  const external = [...new Set(options.external ?? [])].sort();
  return JSON.stringify([external, options.sourceMap ?? true]);
}
