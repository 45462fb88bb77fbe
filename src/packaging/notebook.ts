/**
 * Ships functions defined in tslab notebook cells. A cell has no file on disk, so the entry is
 * built from what the kernel process holds: the compiled code of the cells the function and its
 * helpers were defined in (V8 keeps it while those functions live) and the current values of the
 * notebook names they use. Every name resolves as a new cell would see it now, so a function
 * redefined in a later cell ships in its new version; imports of npm packages and built-ins become
 * imports again; data is copied. A local variable of an enclosing function is refused, as for files.
 */
import type { Variable } from 'eslint-scope';
import { PackagingError } from '../errors.js';
import { analyzeScript, findFunctionAt, freeReferences, type FunctionNode, type ScriptAnalysis } from './analyze.js';
import { bundle } from './bundle.js';
import { capturedError } from './entry.js';
import { sha256Hex } from './hash.js';
import { locateFunction, type FunctionLocation, type ScriptInfo } from './locate.js';
import { nearestProjectRoot } from './native.js';
import { alignLines, cellDefining, isNotebookCellSource, notebookNamespace } from './notebook-cell.js';
import { DESERIALIZE, dataDeclaration, importOf } from './notebook-values.js';

/** True when `script` is a cell of the tslab notebook this process runs. */
export function isNotebookCell(script: ScriptInfo): boolean {
  return script.file === undefined && notebookNamespace() !== undefined && isNotebookCellSource(script.source);
}

const analyses = new Map<string, ScriptAnalysis>();

function cellAnalysis(script: ScriptInfo, where: string): ScriptAnalysis {
  let analysis = analyses.get(script.scriptId);
  if (!analysis) {
    analysis = analyzeScript(script.source, false, where);
    analyses.set(script.scriptId, analysis);
  }
  return analysis;
}

/** The names a cell function needs, and the imports of its own cell it uses directly. */
interface Needs {
  names: Set<string>;
  imports: Map<string, string>;
}

/** The ESM entry for `fn`, a function of a notebook cell: its dependencies, then `export default`. */
export async function notebookEntry(fn: Function, location: FunctionLocation, description: string): Promise<string> {
  const ns = notebookNamespace() ?? {};
  const declarations = new Map<string, string>();
  const imports = new Map<string, string>();
  const pending: Array<{ name: string; value: unknown }> = [];
  const own = needsOf(location, description);
  const queue = (needs: Needs): void => {
    for (const [local, statement] of needs.imports) imports.set(local, statement);
    for (const name of needs.names) {
      if (!declarations.has(name) && !pending.some((p) => p.name === name)) pending.push({ name, value: ns[name] });
    }
  };
  queue(own);
  // A function the notebook names ships under that name (it may call itself through it).
  const main = Object.keys(ns).find((k) => ns[k] === fn);
  if (main !== undefined && !pending.some((p) => p.name === main)) pending.push({ name: main, value: fn });
  while (pending.length > 0) {
    const { name, value } = pending.shift()!;
    if (!(name in ns)) {
      throw new PackagingError(
        `cannot ship ${description}: it uses "${name}", which is neither a notebook name nor a global`,
      );
    }
    const imported = importOf(name, value);
    if (imported) {
      imports.set(name, imported);
      declarations.set(name, '');
      continue;
    }
    if (typeof value !== 'function') {
      declarations.set(name, dataDeclaration(name, value, description));
      continue;
    }
    const at = await locateFunction(value);
    if (!isNotebookCell(at.script)) {
      throw new PackagingError(
        `cannot ship ${description}: it uses "${name}", a function defined in ${at.where} that is not an export of a loaded module; import it in a cell instead`,
      );
    }
    declarations.set(name, `const ${name} = (${functionText(at, description)});`);
    queue(needsOf(at, description));
  }
  const mainText = main ?? `(${functionText(location, description)})`;
  const parts: Array<{ text: string; name?: string }> = [
    ...[...imports.values()].map((text) => ({ text })),
    ...(hasData(declarations) ? [{ text: `import { deserialize as ${DESERIALIZE} } from "node:v8";` }] : []),
    ...[...declarations].filter(([, d]) => d !== '').map(([name, text]) => ({ text, name })),
    // Cells read names of earlier cells as exports.<name>: the entry's own namespace.
    { text: `const exports = { ${[...declarations.keys()].join(', ')} };` },
    main === undefined && fn.name
      ? { text: `export default ${mainText};`, name: fn.name }
      : { text: `export default ${mainText};` },
  ];
  return `${parts.map((p) => p.text).join('\n')}\n${cellSourceMap(parts)}\n`;
}

/**
 * An inline source map that points each line of a shipped function at its line in the notebook cell
 * that defined it (`notebook cell [7]`), when that cell was recorded; esbuild chains it into the bundle,
 * so remote stack traces name the cell and line.
 */
function cellSourceMap(parts: ReadonlyArray<{ text: string; name?: string }>): string {
  const sources: string[] = [];
  const lines: string[] = [];
  let previous = { source: 0, line: 0 };
  for (const part of parts) {
    const at = part.name ? cellDefining(part.name) : undefined;
    const count = part.text.split('\n').length;
    if (!at) {
      for (let k = 0; k < count; k++) lines.push('');
      continue;
    }
    const name = `notebook cell [${at.count}]`;
    let source = sources.indexOf(name);
    if (source < 0) source = sources.push(name) - 1;
    for (const line of alignLines(part.text, at.code, at.line)) {
      lines.push(vlq([0, source - previous.source, line - previous.line, 0]));
      previous = { source, line };
    }
  }
  if (sources.length === 0) return '';
  const map = { version: 3, sources, names: [], mappings: lines.join(';') };
  return `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 VLQ of source map segment fields. */
function vlq(values: number[]): string {
  let out = '';
  for (const value of values) {
    let v = value < 0 ? (-value << 1) | 1 : value << 1;
    do {
      let digit = v & 31;
      v >>>= 5;
      if (v > 0) digit |= 32;
      out += BASE64[digit];
    } while (v > 0);
  }
  return out;
}

function hasData(declarations: Map<string, string>): boolean {
  return [...declarations.values()].some((d) => d.includes(`${DESERIALIZE}(`));
}

function nodeOf(location: FunctionLocation, description: string): { analysis: ScriptAnalysis; node: FunctionNode } {
  const analysis = cellAnalysis(location.script, location.where);
  const node = findFunctionAt(analysis, location.offset);
  if (!node) throw new PackagingError(`cannot ship ${description}: its source was not found in its notebook cell`);
  return { analysis, node };
}

function functionText(location: FunctionLocation, description: string): string {
  const { analysis, node } = nodeOf(location, description);
  return analysis.source.slice(node.start, node.end);
}

/** What the function at `location` uses from its cell and from the notebook. */
function needsOf(location: FunctionLocation, description: string): Needs {
  const { analysis, node } = nodeOf(location, description);
  const free = freeReferences(analysis, node);
  if (free.captured.length > 0) throw capturedError(description, free.captured);
  const needs: Needs = { names: new Set(), imports: new Map() };
  const scope = analysis.manager.acquire(node);
  for (const variable of free.topLevel) {
    const def = variable.defs[0];
    if (def?.type === 'Parameter' && variable.name === 'exports') {
      for (const name of exportsReads(analysis, scope?.through ?? [], variable, description)) needs.names.add(name);
    } else if (def?.type === 'Parameter') {
      throw new PackagingError(
        `cannot ship ${description}: it calls "${variable.name}" of its notebook cell; import the module at the top of a cell instead`,
      );
    } else {
      const imported = cellImport(variable);
      if (imported) needs.imports.set(variable.name, imported);
      else needs.names.add(variable.name);
    }
  }
  return needs;
}

/** The names read as `exports.<name>` through `variable` (the cell's `exports` parameter). */
function exportsReads(
  analysis: ScriptAnalysis,
  through: ReadonlyArray<{ resolved: Variable | null; identifier: { name: string } }>,
  variable: Variable,
  description: string,
): Set<string> {
  const names = new Set<string>();
  for (const ref of through) {
    if (ref.resolved !== variable) continue;
    const parent = analysis.parents.get(ref.identifier as never);
    const property =
      parent?.type === 'MemberExpression' && parent.object === ref.identifier ? parent.property : undefined;
    if (property?.type === 'Identifier' && parent?.type === 'MemberExpression' && !parent.computed) {
      names.add(property.name);
    } else if (property?.type === 'Literal' && typeof property.value === 'string') {
      names.add(property.value);
    } else {
      throw new PackagingError(
        `cannot ship ${description}: it reads the notebook namespace as a whole; refer to names directly`,
      );
    }
  }
  return names;
}

const IMPORT_HELPERS: Record<string, (local: string, from: string) => string> = {
  require: (local, from) => `import * as ${local} from ${from};`,
  __importStar: (local, from) => `import * as ${local} from ${from};`,
  __importDefault: (local, from) =>
    `import ${local}__default from ${from};\nconst ${local} = { default: ${local}__default };`,
};

/** An import for a cell variable TypeScript declared as `const x_1 = require("...")` (or a wrapped one). */
function cellImport(variable: Variable): string | undefined {
  const def = variable.defs[0];
  if (def?.type !== 'Variable' || def.node.type !== 'VariableDeclarator') return undefined;
  let init = def.node.init;
  let helper = 'require';
  if (init?.type === 'CallExpression' && init.callee.type === 'Identifier' && init.callee.name !== 'require') {
    helper = init.callee.name;
    init = init.arguments[0]?.type === 'CallExpression' ? init.arguments[0] : undefined;
  }
  const make = IMPORT_HELPERS[helper];
  if (!make || init?.type !== 'CallExpression' || init.callee.type !== 'Identifier' || init.callee.name !== 'require')
    return undefined;
  const arg = init.arguments[0];
  if (init.arguments.length !== 1 || arg?.type !== 'Literal' || typeof arg.value !== 'string') return undefined;
  return make(variable.name, JSON.stringify(arg.value));
}

/** A bundle of a cell function (the shape of `FunctionBundle`). */
export interface NotebookBundle {
  hash: string;
  code: string;
  description: string;
  externals: string[];
  packageRoot?: string;
}

const byEntry = new Map<string, Promise<NotebookBundle>>();

/**
 * Packages a function of a notebook cell. Not cached per function: the entry is rebuilt each time
 * from the names' current values, and bundled once per distinct entry.
 */
export async function packageCellFunction(
  fn: Function,
  location: FunctionLocation,
  options: { external: string[]; sourceMap: boolean; optionsKey: string },
): Promise<NotebookBundle> {
  const description = `${fn.name || 'anonymous function'} (a notebook cell)`;
  const entry = await notebookEntry(fn, location, description);
  const key = `${sha256Hex(entry)}|${options.optionsKey}`;
  let bundled = byEntry.get(key);
  if (!bundled) {
    bundled = (async () => {
      const output = await bundle({
        entry,
        resolveDir: process.cwd(),
        sourcefile: '<burst notebook entry>',
        external: options.external,
        sourceMap: options.sourceMap,
        description,
      });
      const result: NotebookBundle = {
        hash: sha256Hex(output.code),
        code: output.code,
        description,
        externals: output.externals,
      };
      const root = output.externalRoots[0] ?? nearestProjectRoot(process.cwd());
      if (root !== undefined) result.packageRoot = root;
      return result;
    })();
    byEntry.set(key, bundled);
    bundled.catch(() => byEntry.delete(key));
  }
  return bundled;
}
