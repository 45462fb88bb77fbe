/**
 * esbuild's `keepNames` keeps `fn.name` right when bundling renames a symbol, by wrapping every
 * anonymous function in a call that sets its name: `const rand = __name(() => …, "rand")`. Where the
 * binding kept its name, JavaScript infers the same name without the call, and the call costs: the
 * closure escapes into `Object.defineProperty`, so V8 can no longer keep the variables it captures in
 * registers (a Monte Carlo kernel with two such closures ran ~3 % slower). This pass removes those
 * calls and leaves the others (a renamed binding, a named function expression).
 *
 * The removed characters become spaces (newlines stay), so every line and column is where it was and
 * the bundle's source map stays exact.
 */
import { parse } from 'acorn';
import type * as ESTree from 'estree';
import { walk, type SourceNode } from './analyze.js';

/** The helper esbuild's keepNames calls (its runtime renames a user symbol of the same name). */
const HELPER = '__name';

/** `code` without the name-setting calls JavaScript's own name inference makes redundant. */
export function dropRedundantNames(code: string): string {
  if (!code.includes(`${HELPER}(`)) return code;
  let program: ESTree.Program;
  try {
    program = parse(code, { ecmaVersion: 'latest', sourceType: 'module' }) as unknown as ESTree.Program;
  } catch {
    return code; // not ours to judge: the bundle runs as esbuild wrote it
  }
  const spans: Array<[number, number]> = [];
  let declared = 0;
  walk(program, (node) => {
    declared += declaresHelper(node);
    const named = namedValue(node);
    if (!named) return;
    const [name, value] = named;
    const fn = redundantWrapper(value, name);
    if (fn) spans.push([value.start, fn.start], [fn.end, value.end]);
  });
  // One declaration, esbuild's: a bundled file with its own `__name` may mean something else by it.
  if (spans.length === 0 || declared !== 1) return code;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [from, to] of spans) {
    out += code.slice(at, from) + code.slice(from, to).replace(/[^\n\r\u2028\u2029]/g, ' ');
    at = to;
  }
  return out + code.slice(at);
}

const nameOf = (n: ESTree.Node | null | undefined): string | undefined =>
  n?.type === 'Identifier' ? n.name : undefined;

/** The name a value is given by where it stands (`const x = v`, `{ x: v }`, `x = v`), and the value. */
function namedValue(node: SourceNode): [string, SourceNode] | undefined {
  let name: string | undefined;
  let value: ESTree.Node | null | undefined;
  if (node.type === 'VariableDeclarator') [name, value] = [nameOf(node.id), node.init];
  else if (node.type === 'Property' && node.kind === 'init' && !node.computed && !node.method && !node.shorthand)
    [name, value] = [nameOf(node.key), node.value];
  else if (node.type === 'AssignmentExpression' && node.operator === '=')
    [name, value] = [nameOf(node.left), node.right];
  return name !== undefined && value ? [name, value as SourceNode] : undefined;
}

/** The function inside `__name(fn, "name")` when, unwrapped, it would be given that same name. */
function redundantWrapper(value: SourceNode, name: string): SourceNode | undefined {
  if (value.type !== 'CallExpression' || nameOf(value.callee) !== HELPER || value.arguments.length !== 2)
    return undefined;
  const [fn, label] = value.arguments as [SourceNode, SourceNode];
  if (label.type !== 'Literal' || label.value !== name) return undefined;
  const anonymous = fn.type === 'ArrowFunctionExpression' || (fn.type === 'FunctionExpression' && !fn.id);
  return anonymous ? fn : undefined;
}

/** How many bindings of the helper's name `node` declares (a variable, a function, a parameter). */
function declaresHelper(node: SourceNode): number {
  const bindings: Array<ESTree.Node | null | undefined> = [];
  if (node.type === 'VariableDeclarator' || node.type === 'FunctionDeclaration') bindings.push(node.id);
  if ('params' in node) bindings.push(...node.params);
  if (node.type === 'CatchClause') bindings.push(node.param);
  if (
    node.type === 'ImportSpecifier' ||
    node.type === 'ImportDefaultSpecifier' ||
    node.type === 'ImportNamespaceSpecifier'
  )
    bindings.push(node.local);
  return bindings.filter((b) => nameOf(b) === HELPER).length;
}
