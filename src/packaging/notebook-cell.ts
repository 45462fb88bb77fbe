/**
 * Recognises the code of a tslab notebook cell. tslab (the TypeScript Jupyter kernel) compiles each
 * cell to CommonJS and runs it with `vm.runInThisContext` as
 * `(function(exports, require) { ...cell... \n})(__tslab__.exports, __tslab__.require)` (or an
 * `async function` when the cell awaits at top level). The cell's top-level names live in that
 * function's scope, and names from earlier cells are read as `exports.<name>`: `exports` is tslab's
 * notebook namespace, shared by every cell.
 */
import type * as ESTree from 'estree';

const PREFIXES = ['(function(exports, require) { ', '(async function(exports, require) { '];
const SUFFIX = '})(__tslab__.exports, __tslab__.require)';

/** True when `source` (a script V8 compiled) is a tslab cell. */
export function isNotebookCellSource(source: string): boolean {
  return PREFIXES.some((p) => source.startsWith(p)) && source.trimEnd().endsWith(SUFFIX);
}

/** tslab's namespace of the running notebook (what `exports.<name>` reads in a cell), if any. */
export function notebookNamespace(): Record<string, unknown> | undefined {
  const tslab = (globalThis as { __tslab__?: { exports?: unknown } }).__tslab__;
  const ns = tslab?.exports;
  return typeof ns === 'object' && ns !== null ? (ns as Record<string, unknown>) : undefined;
}

/** The cell's wrapper function, whose body holds the cell's top-level statements. */
export function notebookCellWrapper(program: ESTree.Program, source: string): ESTree.FunctionExpression | undefined {
  if (!isNotebookCellSource(source) || program.body.length !== 1) return undefined;
  const only = program.body[0];
  if (only?.type !== 'ExpressionStatement' || only.expression.type !== 'CallExpression') return undefined;
  const callee = only.expression.callee;
  if (callee.type !== 'FunctionExpression') return undefined;
  const names = callee.params.map((p) => (p.type === 'Identifier' ? p.name : ''));
  return names.join(',') === 'exports,require' ? callee : undefined;
}
