/**
 * Builds the entry module esbuild bundles for a function.
 *
 * - An exported function of an ordinary module is re-exported from that module (`reexportEntry`):
 *   the worker evaluates the module exactly as the client did.
 * - Anything else (a function of the main script, a non-exported or inline function) gets a
 *   "virtual" entry (`virtualEntry`): only the top-level declarations the function needs,
 *   transitively (imports trimmed to the used specifiers, function/class/variable declarations), then
 *   `export default <the function>`. The script's other top-level code (its `map` call, its logging)
 *   is left out, so importing the bundle never runs it again.
 */
import type { Variable } from 'eslint-scope';
import type * as ESTree from 'estree';
import { PackagingError } from '../errors.js';
import {
  accessPath,
  DEFAULT_EXPORT,
  freeReferences,
  isNameWrapper,
  staticKey,
  type FunctionNode,
  type ScriptAnalysis,
  type SourceNode,
} from './analyze.js';

/** A top-level declaration unit: one import specifier, one declarator, one function/class, or the default export. */
interface Unit {
  statement: SourceNode;
  node: SourceNode;
}

interface UnitIndex {
  byVariable: Map<Variable, Unit>;
  defaultUnit?: Unit;
}

const DEFAULT_BINDING = '__burst_default';
const unitIndexes = new WeakMap<ScriptAnalysis, UnitIndex>();

/** An entry that re-exports `exportName` (then `keys`) of the module at `file`. */
export function reexportEntry(file: string, exportName: string, keys: string[], isModule: boolean): string {
  const from = JSON.stringify(file);
  const path = keys.map((k) => `[${JSON.stringify(k)}]`).join('');
  if (!isModule) {
    // A namespace import works both for real CommonJS and for ESM syntax compiled to CommonJS (tsx).
    if (exportName === 'module.exports')
      return `import __burst_module from ${from};\nexport default __burst_module${path};\n`;
    return `import * as __burst_module from ${from};\nexport default __burst_module[${JSON.stringify(exportName)}]${path};\n`;
  }
  const name = /^[A-Za-z_$][\w$]*$/.test(exportName) ? exportName : JSON.stringify(exportName);
  if (keys.length === 0)
    return exportName === 'default'
      ? `export { default } from ${from};\n`
      : `export { ${name} as default } from ${from};\n`;
  return `import { ${name} as __burst_root } from ${from};\nexport default __burst_root${path};\n`;
}

/** The name under which an ES module statically exports its top-level binding `root`, if it does. */
export function exportedName(analysis: ScriptAnalysis, root: string): string | undefined {
  if (root === DEFAULT_EXPORT) return 'default';
  for (const statement of analysis.statements) {
    if (statement.type === 'ExportDefaultDeclaration') {
      const d = statement.declaration;
      if ((d.type === 'Identifier' && d.name === root) || ('id' in d && d.id?.name === root)) return 'default';
    } else if (statement.type === 'ExportNamedDeclaration' && !statement.source) {
      const d = statement.declaration;
      if (d && d.type !== 'VariableDeclaration' && d.id?.name === root) return root;
      if (
        d?.type === 'VariableDeclaration' &&
        d.declarations.some((v) => v.id.type === 'Identifier' && v.id.name === root)
      )
        return root;
      for (const spec of statement.specifiers) {
        if (spec.local.type === 'Identifier' && spec.local.name === root) {
          return spec.exported.type === 'Identifier' ? spec.exported.name : String(spec.exported.value);
        }
      }
    }
  }
  return undefined;
}

/**
 * The virtual entry for `fn`: the declarations it needs, then `export default <fn>`.
 * @throws PackagingError when `fn` captures local variables of an enclosing function, or needs a
 *   binding that is not declared by a plain top-level statement.
 */
export function virtualEntry(analysis: ScriptAnalysis, fn: FunctionNode, description: string): string {
  const free = freeReferences(analysis, fn);
  if (free.captured.length > 0) throw capturedError(description, free.captured);
  if (!analysis.isModule && (free.globals.has('module') || free.globals.has('exports'))) {
    throw new PackagingError(
      `cannot ship ${description}: it uses the CommonJS "module"/"exports" of the script it is defined in, which is not shipped; ` +
        'move the function and what it uses to a separate module and export it from there',
    );
  }
  const index = unitIndex(analysis);
  const property = objectPropertyOf(analysis, fn);
  const path = property ? undefined : accessPath(analysis, fn);
  const kept = new Set<Unit>();
  let exported: string;
  if (property) {
    // A value or method of an object literal: ship just that property, not the whole object (whose
    // other properties may call things), keeping the name V8 gives it.
    for (const variable of referencesWithin(analysis, property.node))
      keep(analysis, index, unitOf(index, variable, description), kept, description);
    exported = `({ ${analysis.source.slice(property.node.start, property.node.end)} })[${JSON.stringify(property.key)}]`;
  } else if (path) {
    const rootUnit =
      path.root === DEFAULT_EXPORT
        ? index.defaultUnit
        : index.byVariable.get(variableNamed(analysis, path.root, description));
    if (!rootUnit)
      throw new PackagingError(`cannot ship ${description}: "${path.root}" is not a top-level declaration`);
    keep(analysis, index, rootUnit, kept, description);
    const root = path.root === DEFAULT_EXPORT ? DEFAULT_BINDING : path.root;
    exported = root + path.keys.map((k) => `[${JSON.stringify(k)}]`).join('');
  } else if (fn.type === 'FunctionExpression' && isMethodValue(analysis, fn)) {
    throw new PackagingError(
      `cannot ship ${description}: it is a method that is not reachable from a top-level binding; pass a wrapper instead, e.g. (x) => obj.method(x)`,
    );
  } else {
    for (const variable of free.topLevel)
      keep(analysis, index, unitOf(index, variable, description), kept, description);
    // In an array literal the function gets no inferred name: an inline arrow stays anonymous
    // instead of being called "default".
    exported = `[${analysis.source.slice(fn.start, fn.end)}][0]`;
  }
  // Keeping the script's source map comment lets esbuild chain it (positions are preserved), so
  // stack traces can point at the original file, e.g. the .ts behind tsx's output.
  const sourceMap = SOURCE_MAP_COMMENT.exec(analysis.source)?.[0] ?? '';
  return `${emit(analysis, kept)}\nexport default ${exported};\n${sourceMap.trim()}\n`;
}

const SOURCE_MAP_COMMENT = /\n\/\/# sourceMappingURL=\S+\s*$/;

export function capturedError(description: string, names: string[]): PackagingError {
  const list = names.map((n) => `"${n}"`).join(', ');
  const plural = names.length > 1;
  return new PackagingError(
    `cannot ship ${description}: it captures ${plural ? 'the local variables' : 'the local variable'} ${list} of an enclosing function, ` +
      `which exist${plural ? '' : 's'} only in this process. Pass ${plural ? 'them' : 'it'} through extraArgs (the function receives ctx.args) ` +
      `or move ${plural ? 'them' : 'it'} to module level.`,
    { capturedVariables: names },
  );
}

function variableNamed(analysis: ScriptAnalysis, name: string, description: string): Variable {
  const variable = analysis.top.set.get(name);
  if (!variable) throw new PackagingError(`cannot ship ${description}: "${name}" is not a top-level binding`);
  return variable;
}

function unitOf(index: UnitIndex, variable: Variable, description: string): Unit {
  const unit = index.byVariable.get(variable);
  if (!unit) {
    throw new PackagingError(
      `cannot ship ${description}: it uses "${variable.name}", which is not declared by a plain top-level statement ` +
        '(e.g. a var inside a top-level block); declare it at the top level of its module',
    );
  }
  return unit;
}

/** Adds `unit` and, transitively, the units of the top-level bindings it refers to. */
function keep(analysis: ScriptAnalysis, index: UnitIndex, unit: Unit, kept: Set<Unit>, description: string): void {
  const queue = [unit];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (kept.has(next)) continue;
    kept.add(next);
    for (const variable of referencesWithin(analysis, next.node)) {
      const dependency = unitOf(index, variable, description);
      if (!kept.has(dependency)) queue.push(dependency);
    }
  }
}

function referencesWithin(analysis: ScriptAnalysis, node: SourceNode): Set<Variable> {
  const refs = analysis.topReferences;
  let lo = 0;
  let hi = refs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (refs[mid]!.start < node.start) lo = mid + 1;
    else hi = mid;
  }
  const found = new Set<Variable>();
  for (let i = lo; i < refs.length && refs[i]!.start < node.end; i++) found.add(refs[i]!.variable);
  return found;
}

/** The object-literal property (`{ key: fn }` or `{ key() {} }`) whose value is `fn`, if any. */
function objectPropertyOf(analysis: ScriptAnalysis, fn: FunctionNode): { node: SourceNode; key: string } | undefined {
  let value: SourceNode = fn;
  let parent = analysis.parents.get(value);
  if (parent && isNameWrapper(parent, value)) {
    value = parent;
    parent = analysis.parents.get(value);
  }
  if (parent?.type !== 'Property' || parent.value !== value || parent.kind !== 'init') return undefined;
  const key = staticKey(parent);
  return key === undefined ? undefined : { node: parent, key };
}

function isMethodValue(analysis: ScriptAnalysis, fn: FunctionNode): boolean {
  const parent = analysis.parents.get(fn);
  return (
    parent?.type === 'MethodDefinition' || (parent?.type === 'Property' && (parent.method || parent.kind !== 'init'))
  );
}

function unitIndex(analysis: ScriptAnalysis): UnitIndex {
  const existing = unitIndexes.get(analysis);
  if (existing) return existing;
  const index: UnitIndex = { byVariable: new Map() };
  const add = (statement: SourceNode, node: SourceNode): void => {
    const unit = { statement, node };
    for (const variable of analysis.manager.getDeclaredVariables(node)) index.byVariable.set(variable, unit);
  };
  for (const statement of analysis.statements) {
    if (statement.type === 'ImportDeclaration') {
      for (const spec of statement.specifiers) add(statement, spec as SourceNode);
      continue;
    }
    const declaration = declarationOf(statement);
    if (!declaration) continue;
    if (declaration.type === 'VariableDeclaration') {
      for (const declarator of declaration.declarations) add(statement, declarator as SourceNode);
    } else if (
      (declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration') &&
      declaration.id
    ) {
      add(statement, declaration);
    } else if (statement.type === 'ExportDefaultDeclaration') {
      index.defaultUnit = { statement, node: declaration };
    }
  }
  unitIndexes.set(analysis, index);
  return index;
}

function declarationOf(statement: SourceNode): SourceNode | undefined {
  if (statement.type === 'ExportNamedDeclaration')
    return (statement.declaration ?? undefined) as SourceNode | undefined;
  if (statement.type === 'ExportDefaultDeclaration') return statement.declaration as SourceNode;
  if (
    statement.type === 'VariableDeclaration' ||
    statement.type === 'FunctionDeclaration' ||
    statement.type === 'ClassDeclaration'
  ) {
    return statement;
  }
  return undefined;
}

/**
 * The kept statements in source order, each placed at its original line and column when possible,
 * so that positions in the entry match the script V8 ran. Side-effect-only imports are always kept.
 */
function emit(analysis: ScriptAnalysis, kept: Set<Unit>): string {
  const { source } = analysis;
  const keptNodes = new Set([...kept].map((u) => u.node));
  const writer = new PositionedWriter(source);
  for (const statement of analysis.statements) {
    const text = statementText(analysis, statement, keptNodes);
    if (text !== undefined) writer.write(statement.start, text);
  }
  return writer.text;
}

function statementText(analysis: ScriptAnalysis, statement: SourceNode, kept: Set<ESTree.Node>): string | undefined {
  const { source } = analysis;
  const text = (node: SourceNode): string => source.slice(node.start, node.end);
  if (statement.type === 'ImportDeclaration') {
    if (statement.specifiers.length === 0) return text(statement);
    const used = statement.specifiers.filter((s) => kept.has(s)) as Array<
      ESTree.ImportDeclaration['specifiers'][number] & SourceNode
    >;
    if (used.length === 0) return undefined;
    const parts = used.filter((s) => s.type !== 'ImportSpecifier').map(text);
    const named = used.filter((s) => s.type === 'ImportSpecifier').map(text);
    // Compact, so that the trimmed import is no longer than the original and what follows keeps its place.
    if (named.length > 0) parts.push(`{${named.join(',')}}`);
    const from = source.slice((statement.source as SourceNode).start, statement.end).replace(/;\s*$/, '');
    const list = parts.join(',');
    return `import${list.startsWith('{') ? '' : ' '}${list}${list.endsWith('}') ? '' : ' '}from${from};`;
  }
  const declaration = declarationOf(statement);
  if (!declaration) return undefined;
  if (declaration.type === 'VariableDeclaration') {
    const used = (declaration.declarations as SourceNode[]).filter((d) => kept.has(d));
    return used.length > 0 ? `${declaration.kind} ${used.map(text).join(', ')};` : undefined;
  }
  if (!kept.has(declaration)) return undefined;
  if (statement.type === 'ExportDefaultDeclaration' && !('id' in declaration && declaration.id)) {
    return `const ${DEFAULT_BINDING} = (${text(declaration)});`;
  }
  return text(declaration);
}

/** Appends text at (or after) the line and column an offset of the original source had. */
class PositionedWriter {
  text = '';
  private line = 0;
  private column = 0;
  private readonly lineStarts: number[] = [0];

  constructor(source: string) {
    for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  write(offset: number, chunk: string): void {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const column = offset - this.lineStarts[lo]!;
    if (lo > this.line) {
      this.append('\n'.repeat(lo - this.line) + ' '.repeat(column));
    } else {
      // Statements that were adjacent stay adjacent (tsx prints a module on one line): each kept one
      // then keeps its column, so the source map chained from tsx still covers it.
      this.append(this.column <= column ? ' '.repeat(column - this.column) : '\n');
    }
    this.append(chunk);
  }

  private append(chunk: string): void {
    this.text += chunk;
    const lastNewline = chunk.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.column += chunk.length;
      return;
    }
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) this.line++;
    this.column = chunk.length - lastNewline - 1;
  }
}
