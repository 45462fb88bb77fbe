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

/** An ESTree node with acorn's offsets; children are read generically. */
interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

/** The helper esbuild's keepNames calls (its runtime renames a user symbol of the same name). */
const HELPER = '__name';

/** `code` without the name-setting calls JavaScript's own name inference makes redundant. */
export function dropRedundantNames(code: string): string {
  if (!code.includes(`${HELPER}(`)) return code;
  let program: Node;
  try {
    program = parse(code, { ecmaVersion: 'latest', sourceType: 'module' }) as unknown as Node;
  } catch {
    return code; // not ours to judge: the bundle runs as esbuild wrote it
  }
  const spans: Array<[number, number]> = [];
  let declared = 0;
  visit(program, (node) => {
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

/** The name a value is given by where it stands (`const x = v`, `{ x: v }`, `x = v`), and the value. */
function namedValue(node: Node): [string, Node] | undefined {
  const id = (n: unknown): string | undefined =>
    (n as Node | undefined)?.type === 'Identifier' ? ((n as Node).name as string) : undefined;
  if (node.type === 'VariableDeclarator') {
    const name = id(node.id);
    return name !== undefined && node.init ? [name, node.init as Node] : undefined;
  }
  if (node.type === 'Property' && node.kind === 'init' && !node.computed && !node.method && !node.shorthand) {
    const name = id(node.key);
    return name !== undefined ? [name, node.value as Node] : undefined;
  }
  if (node.type === 'AssignmentExpression' && node.operator === '=') {
    const name = id(node.left);
    return name !== undefined ? [name, node.right as Node] : undefined;
  }
  return undefined;
}

/** The function inside `__name(fn, "name")` when, unwrapped, it would be given that same name. */
function redundantWrapper(value: Node, name: string): Node | undefined {
  if (value.type !== 'CallExpression' || (value.callee as Node).type !== 'Identifier') return undefined;
  if ((value.callee as Node).name !== HELPER) return undefined;
  const [fn, label] = value.arguments as Node[];
  if (!fn || !label || (value.arguments as Node[]).length !== 2) return undefined;
  if (label.type !== 'Literal' || label.value !== name) return undefined;
  const anonymous = fn.type === 'ArrowFunctionExpression' || (fn.type === 'FunctionExpression' && fn.id === null);
  return anonymous ? fn : undefined;
}

/** How many bindings of the helper's name `node` declares (a variable, a function, a parameter). */
function declaresHelper(node: Node): number {
  const isHelper = (n: unknown): boolean =>
    (n as Node | undefined)?.type === 'Identifier' && (n as Node).name === HELPER;
  let n = 0;
  if ((node.type === 'VariableDeclarator' || node.type === 'FunctionDeclaration') && isHelper(node.id)) n++;
  if (Array.isArray(node.params)) for (const p of node.params) if (isHelper(p)) n++;
  if (node.type === 'CatchClause' && isHelper(node.param)) n++;
  if (
    node.type === 'ImportSpecifier' ||
    node.type === 'ImportDefaultSpecifier' ||
    node.type === 'ImportNamespaceSpecifier'
  )
    if (isHelper(node.local)) n++;
  return n;
}

function visit(node: Node, seen: (node: Node) => void): void {
  seen(node);
  for (const key in node) {
    const child = node[key];
    if (Array.isArray(child)) {
      for (const c of child) if (c && typeof (c as Node).type === 'string') visit(c as Node, seen);
    } else if (child && typeof child === 'object' && typeof (child as Node).type === 'string')
      visit(child as Node, seen);
  }
}
