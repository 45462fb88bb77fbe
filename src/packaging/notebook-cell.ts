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

/** The TypeScript source of a cell the kernel executed, and its execution count (`In [count]`). */
export interface RecordedCell {
  count: number;
  code: string;
}

const MAX_CELLS = 500;
const recorded: RecordedCell[] = [];
let recording = false;

/**
 * Starts keeping the source of the cells tslab executes from now on (it keeps none itself), so that
 * remote stack traces can name a cell and its line. Wraps tslab's execute handler once; does nothing
 * outside a tslab kernel.
 */
export function recordNotebookCells(cache: Record<string, { exports?: unknown } | undefined>): void {
  if (recording || notebookNamespace() === undefined) return;
  const file = Object.keys(cache).find((f) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(f));
  const handler = (cache[file ?? '']?.exports as { JupyterHandlerImpl?: { prototype?: Record<string, unknown> } })
    ?.JupyterHandlerImpl?.prototype;
  const original = handler?.handleExecuteImpl;
  if (!handler || typeof original !== 'function') return;
  recording = true;
  handler.handleExecuteImpl = function (this: { execCount?: number }, req: { code?: unknown }, ...rest: unknown[]) {
    recorded.push({ count: (this.execCount ?? 0) + 1, code: String(req?.code ?? '') });
    if (recorded.length > MAX_CELLS) recorded.shift();
    return (original as (...args: unknown[]) => unknown).call(this, req, ...rest);
  };
}

/** The most recent recorded cell that defines `name` (a function or a variable), and the line where. */
export function cellDefining(name: string): { count: number; line: number; code: string } | undefined {
  const escaped = name.replace(/\$/g, '\\$');
  const pattern = new RegExp(
    `(?:\\bfunction\\s*\\*?\\s*${escaped}\\s*[(<])|(?:\\b(?:const|let|var)\\s+${escaped}\\b[^=;]*=)`,
  );
  for (let i = recorded.length - 1; i >= 0; i--) {
    const cell = recorded[i]!;
    const match = pattern.exec(cell.code);
    if (match)
      return { count: cell.count, line: cell.code.slice(0, match.index).split('\n').length - 1, code: cell.code };
  }
  return undefined;
}

const WORD = /[A-Za-z_$][\w$]*|\d+/g;

/**
 * For each line of `js` (a function as tslab compiled it), the line of the cell's TypeScript `code`
 * it came from, starting at line `from`: the first line at or after the previous match whose words
 * contain the JS line's first words in order. TypeScript reprints code (it drops types and may split
 * `if (a) b;` over two lines), so positions are matched by content, not copied.
 */
export function alignLines(js: string, code: string, from: number): number[] {
  const tsWords = code.split('\n').map((line) => line.match(WORD) ?? []);
  let cursor = from;
  return js.split('\n').map((line) => {
    const words = (line.match(WORD) ?? []).slice(0, 3);
    if (words.length === 0) return cursor;
    for (let j = cursor; j < tsWords.length; j++) {
      if (containsInOrder(tsWords[j]!, words)) {
        cursor = j;
        return j;
      }
    }
    return cursor;
  });
}

function containsInOrder(haystack: string[], needle: string[]): boolean {
  let i = 0;
  for (const word of haystack) if (word === needle[i] && ++i === needle.length) return true;
  return false;
}
