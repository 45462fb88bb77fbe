/**
 * Finds where a function object was defined, using the V8 inspector of this very process:
 * `[[FunctionLocation]]` gives (scriptId, line, column), and `Debugger.getScriptSource` gives the exact
 * source V8 compiled (for a `.ts` file run under tsx: tsx's JavaScript output, whose positions are the
 * ones V8 reports). The session's `post` is synchronous for an in-process session.
 *
 * The Debugger domain is enabled only while fetching a script not seen before and disabled right
 * after: while it is on, V8 records extra data for every script it compiles.
 */
import type { Session } from 'node:inspector';
import { SourceMap } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PackagingError } from '../errors.js';

/** A script V8 has compiled. */
export interface ScriptInfo {
  scriptId: string;
  /** `file://` URL for ES modules, an absolute path for CommonJS, '' or a pseudo-name for eval code. */
  url: string;
  /** The absolute file path, when the script came from a file. */
  file?: string;
  /** True for an ES module, false for CommonJS and classic scripts. */
  isModule: boolean;
  /** The exact source V8 compiled. */
  source: string;
}

/** Where a function is defined. */
export interface FunctionLocation {
  script: ScriptInfo;
  /** 0-based offset of V8's function start position in `script.source` (UTF-16 units). */
  offset: number;
  /** Human form `file:line:column` (1-based, mapped back through the script's inline source map). */
  where: string;
}

interface RemoteProperty {
  name: string;
  value?: { value?: unknown; objectId?: string };
}

const TARGET = Symbol.for('burst.packaging.target');
const OBJECT_GROUP = 'burst-packaging';
let session: Session | undefined;
const scripts = new Map<string, ScriptInfo>();
const scriptMeta = new Map<string, { url: string; isModule: boolean }>();

/** Locates `fn`'s definition. @throws PackagingError for built-in, bound or otherwise unlocatable functions. */
export async function locateFunction(fn: Function): Promise<FunctionLocation> {
  const s = await connect();
  const internal = internalProperties(s, fn);
  const label = fn.name ? `"${fn.name}"` : 'an anonymous function';
  if (internal.some((p) => p.name === '[[TargetFunction]]')) {
    throw new PackagingError(
      `cannot ship ${label}: it is a bound function; pass the bound values through extraArgs instead`,
    );
  }
  const raw = internal.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as
    | { scriptId: string; lineNumber: number; columnNumber: number }
    | undefined;
  if (!raw) {
    throw new PackagingError(
      `cannot ship ${label}: it is a built-in function with no source; wrap it, e.g. (x) => ${fn.name || 'f'}(x)`,
    );
  }
  const script =
    scripts.get(raw.scriptId) ??
    fromDisk(s, raw.scriptId, fn, raw.lineNumber, raw.columnNumber) ??
    scriptSource(s, raw.scriptId);
  if (script.url.startsWith('node:')) {
    throw new PackagingError(
      `cannot ship ${label}: it is part of Node.js itself (${script.url}); wrap it, e.g. (x) => ${fn.name || 'f'}(x)`,
    );
  }
  const offset = offsetOf(script.source, raw.lineNumber, raw.columnNumber);
  return { script, offset, where: describePosition(script, raw.lineNumber, raw.columnNumber) };
}

async function connect(): Promise<Session> {
  if (session) return session;
  let inspector: typeof import('node:inspector');
  try {
    inspector = await import('node:inspector');
  } catch (cause) {
    throw new PackagingError('cannot ship functions: this Node.js has no inspector (node:inspector)', { cause });
  }
  if (session) return session;
  const s = new inspector.Session();
  try {
    s.connect();
  } catch (cause) {
    throw new PackagingError(`cannot ship functions: the inspector is not available (${(cause as Error).message})`, {
      cause,
    });
  }
  s.on('Debugger.scriptParsed', (message) => {
    const { scriptId, url, isModule } = message.params;
    scriptMeta.set(scriptId, { url, isModule: isModule === true });
  });
  session = s;
  return s;
}

/** Calls an inspector method; an in-process session answers before `post` returns. */
function post<T>(s: Session, method: string, params?: object): T {
  let result: unknown;
  let failure: unknown;
  let answered = false;
  s.post(method, params, (error: Error | null, value?: object) => {
    answered = true;
    failure = error;
    result = value;
  });
  if (!answered) throw new PackagingError(`the inspector did not answer ${method} synchronously`);
  if (failure) throw new PackagingError(`inspector ${method} failed: ${String(failure)}`, { cause: failure });
  return result as T;
}

function internalProperties(s: Session, fn: Function): RemoteProperty[] {
  const holder = globalThis as Record<symbol, unknown>;
  holder[TARGET] = fn;
  try {
    const evaluated = post<{ result: { objectId?: string } }>(s, 'Runtime.evaluate', {
      expression: 'globalThis[Symbol.for("burst.packaging.target")]',
      objectGroup: OBJECT_GROUP,
      silent: true,
    });
    const objectId = evaluated.result.objectId;
    if (!objectId) throw new PackagingError('the inspector could not see the function');
    const props = post<{ internalProperties?: RemoteProperty[] }>(s, 'Runtime.getProperties', {
      objectId,
      ownProperties: true,
    });
    return props.internalProperties ?? [];
  } finally {
    delete holder[TARGET];
    post(s, 'Runtime.releaseObjectGroup', { objectGroup: OBJECT_GROUP });
  }
}

/**
 * The script of a plain `.js`/`.mjs`/`.cjs` file, read from disk, when V8 compiled it unchanged: the
 * function's own text (`fn.toString()`, an exact slice of V8's source) must be in the file, spanning
 * the position V8 reports. The file is found without the Debugger domain (enabling it makes V8
 * report every script compiled so far, ~40 ms): as the CommonJS module that exports the function, or
 * from a best-effort coverage snapshot (also ~40 ms), which lists scripts with a function that ran.
 * Anything else (a file a loader such as tsx transformed, eval code, a mismatch) gets undefined and
 * the Debugger path.
 */
function fromDisk(s: Session, scriptId: string, fn: Function, line: number, column: number): ScriptInfo | undefined {
  // The module exporting the function is found at once; a snapshot costs ~40 ms.
  let file = commonJsFileExporting(fn);
  let url: string | undefined;
  if (file === undefined) {
    try {
      const coverage = post<{ result: Array<{ scriptId: string; url: string }> }>(s, 'Profiler.getBestEffortCoverage');
      url = coverage.result.find((r) => r.scriptId === scriptId)?.url;
    } catch {
      return undefined;
    }
    if (!url?.startsWith('file:')) return undefined;
    file = fileOf(url);
  }
  if (file === undefined || !/\.[mc]?js$/.test(file)) return undefined;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const isModule = moduleKind(file, source);
  if (isModule === undefined) return undefined;
  const offset = offsetOf(source, line, column);
  const text = Function.prototype.toString.call(fn);
  const at = text.length > 0 ? source.lastIndexOf(text, offset) : -1;
  if (at < 0 || at + text.length <= offset) return undefined;
  return { scriptId, url: url ?? pathToFileURL(file).href, file, isModule, source };
}

/**
 * True for an ES module, false for CommonJS, undefined when unsure. It matters: V8 compiles a
 * CommonJS module as the body of Node's wrapper function, whose parameters (exports, module,
 * require…) the analysis must see. A `.mjs`, or a `.js` under `"type": "module"`, is a module; a file
 * Node's CommonJS loader holds, with no import/export statement, while no loader flag could have
 * transformed it, is CommonJS; a `.js` that loader does not hold and that has import/export
 * statements is a module Node detected.
 */
function moduleKind(file: string, source: string): boolean | undefined {
  const type = file.endsWith('.mjs') ? 'module' : file.endsWith('.cjs') ? 'commonjs' : packageType(file);
  if (type === 'module') return file.endsWith('.cjs') ? undefined : true;
  const esmSyntax = /^\s*(import|export)\b/m.test(source);
  if (!Object.hasOwn(cjsRequire().cache, file)) return esmSyntax && file.endsWith('.js') ? true : undefined;
  return !esmSyntax && !loaderFlags() ? false : undefined;
}

/** The file of the CommonJS module whose exports hold `fn` (as `module.exports` or a data property of it). */
function commonJsFileExporting(fn: Function): string | undefined {
  if (loaderFlags()) return undefined;
  for (const [file, mod] of Object.entries(cjsRequire().cache)) {
    const exported = mod?.exports as unknown;
    if (exported === fn) return file;
    if (typeof exported !== 'object' || exported === null) continue;
    // Data properties only: a getter could run code.
    for (const d of Object.values(Object.getOwnPropertyDescriptors(exported)))
      if ('value' in d && d.value === fn) return file;
  }
  return undefined;
}

/** True when Node was started with a flag that can load a loader (tsx…) that transforms CommonJS files. */
function loaderFlags(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((f) => /^(--(import|require|loader|experimental-loader)\b|-r$)/.test(f));
}

let requireFn: NodeJS.Require | undefined;
function cjsRequire(): NodeJS.Require {
  requireFn ??= createRequire(import.meta.url);
  return requireFn;
}

/** The `type` of the package.json nearest to `file` ('commonjs' when none says 'module'). */
function packageType(file: string): 'module' | 'commonjs' {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: unknown };
      return pkg.type === 'module' ? 'module' : 'commonjs';
    } catch {
      // no readable package.json here: look further up
    }
    if (dirname(dir) === dir) return 'commonjs';
  }
}

function scriptSource(s: Session, scriptId: string): ScriptInfo {
  const known = scripts.get(scriptId);
  if (known) return known;
  post(s, 'Debugger.enable');
  let source: string;
  try {
    source = post<{ scriptSource: string }>(s, 'Debugger.getScriptSource', { scriptId }).scriptSource;
  } finally {
    post(s, 'Debugger.disable');
  }
  const meta = scriptMeta.get(scriptId) ?? { url: '', isModule: false };
  const info: ScriptInfo = { scriptId, url: meta.url, isModule: meta.isModule, source };
  const file = fileOf(meta.url);
  if (file !== undefined) info.file = file;
  scripts.set(scriptId, info);
  return info;
}

/** The file path behind a script URL, if it names a file. */
function fileOf(url: string): string | undefined {
  if (url.startsWith('file:')) {
    try {
      return fileURLToPath(url.replace(/[?#].*$/, ''));
    } catch {
      return undefined;
    }
  }
  return url.startsWith('/') || /^[A-Za-z]:[\\/]/.test(url) ? url : undefined;
}

function offsetOf(source: string, line: number, column: number): number {
  let offset = 0;
  for (let i = 0; i < line; i++) {
    const next = source.indexOf('\n', offset);
    if (next < 0) break;
    offset = next + 1;
  }
  return offset + column;
}

/** `file:line:col`, mapped to the original file when the script carries an inline source map (tsx does). */
function describePosition(script: ScriptInfo, line: number, column: number): string {
  const name = script.file ?? (script.url || '<eval>');
  const mapped = mapThroughInlineSourceMap(script, line, column);
  if (mapped) return `${name}:${mapped.line + 1}:${mapped.column + 1}`;
  return `${name}:${line + 1}:${column + 1}`;
}

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json[^,]*;base64,([A-Za-z0-9+/=]+)\s*$/;

const sourceMaps = new WeakMap<ScriptInfo, SourceMap | null>();

function mapThroughInlineSourceMap(
  script: ScriptInfo,
  line: number,
  column: number,
): { line: number; column: number } | undefined {
  let map = sourceMaps.get(script);
  if (map === undefined) {
    map = parseInlineSourceMap(script.source);
    sourceMaps.set(script, map);
  }
  if (!map) return undefined;
  const entry = map.findEntry(line, column) as { originalLine?: number; originalColumn?: number };
  if (typeof entry.originalLine !== 'number' || typeof entry.originalColumn !== 'number') return undefined;
  return { line: entry.originalLine, column: entry.originalColumn };
}

function parseInlineSourceMap(source: string): SourceMap | null {
  const match = INLINE_MAP.exec(source.slice(-Math.min(source.length, 4_000_000)));
  if (!match?.[1]) return null;
  try {
    const payload = JSON.parse(Buffer.from(match[1], 'base64').toString('utf8')) as ConstructorParameters<
      typeof SourceMap
    >[0];
    return new SourceMap(payload);
  } catch {
    return null;
  }
}
