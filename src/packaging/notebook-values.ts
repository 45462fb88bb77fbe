/**
 * How a notebook name's current value is rebuilt in a worker: as an import of the module it came
 * from (found by identity among the modules this process has loaded), or as data (copied with the
 * structured-clone format of `node:v8`). Functions are handled by `notebook.ts`.
 */
import { builtinModules, createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { serialize } from 'node:v8';
import { PackagingError } from '../errors.js';

/** Local name used in generated entries for `node:v8`'s `deserialize`. */
export const DESERIALIZE = '__burst_v8_deserialize';

interface LoadedModule {
  specifier: string;
  exports: unknown;
}

/** The modules this process has loaded: built-ins it already uses, and CommonJS files in require's cache. */
function loadedModules(): LoadedModule[] {
  const require = createRequire(join(process.cwd(), 'notebook.js'));
  const found: LoadedModule[] = [];
  const publicBuiltins = new Set(builtinModules.filter((m) => !m.startsWith('_')));
  // Only built-ins already loaded: requiring the others could print warnings or start things.
  const loadList = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  for (const entry of loadList) {
    const name = entry.startsWith('NativeModule ') ? entry.slice('NativeModule '.length) : '';
    if (!publicBuiltins.has(name)) continue;
    try {
      found.push({ specifier: `node:${name}`, exports: require(`node:${name}`) });
    } catch {
      // Not loadable by this name: skip.
    }
  }
  for (const [file, mod] of Object.entries(require.cache)) {
    if (mod?.loaded) found.push({ specifier: specifierOf(file, require), exports: mod.exports });
  }
  return found;
}

/** A bare package name when `file` is what that name resolves to, else the absolute path. */
function specifierOf(file: string, require: NodeRequire): string {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return file;
  const parts = file.slice(at + marker.length).split(sep);
  const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  try {
    if (name && require.resolve(name) === file) return name;
  } catch {
    // Not resolvable from here by name: fall back to the file.
  }
  return file;
}

/**
 * An import statement binding `local` to `value` when `value` is a loaded module, its namespace
 * (TypeScript's `import * as` copy) or one of its exports; undefined otherwise.
 */
export function importOf(local: string, value: unknown): string | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  const modules = loadedModules();
  const from = (m: LoadedModule): string => JSON.stringify(m.specifier);
  for (const m of modules) if (m.exports === value) return `import ${local} from ${from(m)};`;
  // TypeScript's __importStar copies a CommonJS module's properties and keeps it as `default`.
  const inner = (value as { default?: unknown }).default;
  for (const m of modules)
    if (inner !== undefined && m.exports === inner) return `import * as ${local} from ${from(m)};`;
  for (const m of modules) {
    const key = keyOf(m.exports, value);
    if (key !== undefined) return `import { ${JSON.stringify(key)} as ${local} } from ${from(m)};`;
  }
  return undefined;
}

function keyOf(exports: unknown, value: unknown): string | undefined {
  if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null) return undefined;
  for (const key of Object.keys(exports)) {
    try {
      if ((exports as Record<string, unknown>)[key] === value) return key;
    } catch {
      // A throwing getter exports nothing we can use.
    }
  }
  return undefined;
}

const DATA_CLASSES: Function[] = [Object, Array, Map, Set, Date, RegExp, ArrayBuffer];

/**
 * `const <local> = <value>;` for data: primitives as literals, plain objects, arrays, maps, sets,
 * dates, typed arrays... as a structured-clone copy of their current value.
 * @throws PackagingError naming `local` when the value is not data (an instance of a class, a symbol).
 */
export function dataDeclaration(local: string, value: unknown, description: string): string {
  if (value === undefined) return `const ${local} = undefined;`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' || value === null) {
    if (typeof value !== 'number' || Number.isFinite(value)) return `const ${local} = ${JSON.stringify(value)};`;
  }
  if (typeof value === 'bigint') return `const ${local} = ${value}n;`;
  const proto = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  const ok =
    typeof value === 'number' ||
    proto === null ||
    ArrayBuffer.isView(value) ||
    DATA_CLASSES.some((c) => proto === c.prototype);
  if (!ok) {
    const kind =
      typeof value === 'object' ? `an instance of ${proto?.constructor?.name ?? 'a class'}` : `a ${typeof value}`;
    throw new PackagingError(
      `cannot ship ${description}: it uses the notebook name "${local}", which holds ${kind}; only data (numbers, strings, plain objects, arrays, maps, sets, typed arrays), functions and imports from earlier cells can be shipped`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = serialize(value);
  } catch (cause) {
    throw new PackagingError(
      `cannot ship ${description}: the notebook name "${local}" holds data that cannot be copied (${(cause as Error).message})`,
      { cause },
    );
  }
  return `const ${local} = ${DESERIALIZE}(Buffer.from(${JSON.stringify(bytes.toString('base64'))}, "base64"));`;
}
