/**
 * esbuild's `keepNames` keeps `fn.name` right when bundling renames a symbol, by wrapping every
 * anonymous function in a call that sets its name: `const rand = __name(() => …, "rand")`. Where the
 * binding kept its name, JavaScript infers the same name without the call, and the call costs: the
 * closure escapes into `Object.defineProperty`, so V8 can no longer keep the variables it captures in
 * registers (a Monte Carlo kernel with two such closures ran ~3 % slower). This pass removes those
 * calls and leaves the others (a renamed binding, a named function expression). It also removes the
 * calls keepNames puts after a declaration that already has the name, `__name(f, "f")`, and in a
 * class's static block, `static { __name(this, "C") }`: each is a defineProperty when the bundle
 * loads, ~10 µs apiece on the test machine (Burst's own bundles, built with it, made 641 of them at
 * every import and 363 at every worker thread's start, issue 16).
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
export function dropRedundantNames(code: string, sourceType: 'module' | 'script' = 'module'): string {
  if (!code.includes(`${HELPER}(`)) return code;
  let program: ESTree.Program;
  try {
    program = parse(code, { ecmaVersion: 'latest', sourceType }) as unknown as ESTree.Program;
  } catch {
    return code; // not ours to judge: the bundle runs as esbuild wrote it
  }
  const spans: Array<[number, number]> = [];
  let declared = 0;
  const selfNamed = selfNamedBindings(program);
  walk(program, (node) => {
    declared += declaresHelper(node);
    // `__name(f, "f");` where every `f` is a function or class of that name.
    const call = node.type === 'ExpressionStatement' ? helperCall(node.expression as SourceNode) : undefined;
    if (call && nameOf(call.target) === call.name && selfNamed.has(call.name)) spans.push([node.start, node.end]);
    // `static { __name(this, "C"); }` in a class that is named C before its static blocks run.
    const cls = classAndName(node);
    if (cls)
      for (const member of cls.node.body.body as SourceNode[]) {
        if (member.type !== 'StaticBlock' || member.body.length !== 1) continue;
        const inner = member.body[0] as SourceNode;
        const named = inner.type === 'ExpressionStatement' ? helperCall(inner.expression as SourceNode) : undefined;
        if (named?.target.type === 'ThisExpression' && named.name === cls.name) spans.push([member.start, member.end]);
      }
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

/** `{ target, name }` when `node` is exactly `__name(target, "name")`. */
function helperCall(node: SourceNode): { target: SourceNode; name: string } | undefined {
  if (node.type !== 'CallExpression' || nameOf(node.callee) !== HELPER || node.arguments.length !== 2) return undefined;
  const [target, label] = node.arguments as [SourceNode, SourceNode];
  return label.type === 'Literal' && typeof label.value === 'string' ? { target, name: label.value } : undefined;
}

/** The function inside `__name(fn, "name")` when, unwrapped, it would be given that same name. */
function redundantWrapper(value: SourceNode, name: string): SourceNode | undefined {
  const call = helperCall(value);
  if (!call || call.name !== name) return undefined;
  const fn = call.target;
  const anonymous =
    fn.type === 'ArrowFunctionExpression' ||
    ((fn.type === 'FunctionExpression' || fn.type === 'ClassExpression') && !fn.id);
  return anonymous ? fn : undefined;
}

/** A class and the name it has before its static blocks run: its own, or by named evaluation `C = class {…}`. */
function classAndName(node: SourceNode): { node: ESTree.Class; name: string } | undefined {
  if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id)
    return { node, name: node.id.name };
  const named = namedValue(node);
  const value = named?.[1];
  if (named && value?.type === 'ClassExpression' && !value.id && node.type !== 'Property')
    return { node: value, name: named[0] };
  return undefined;
}

/**
 * Names that, wherever the file binds them, name a function or class of that very name and are never
 * assigned: `__name(f, "f")` changes nothing whichever `f` it sees. (esbuild hoists a module's
 * declarations out of its lazy-init wrapper and leaves the `__name` calls inside it.)
 */
function selfNamedBindings(program: ESTree.Program): Set<string> {
  const fnLike = new Set<string>();
  const other = new Set<string>();
  const bind = (p: ESTree.Node | null | undefined): void => {
    if (!p) return;
    if (p.type === 'Identifier') other.add(p.name);
    else if (p.type === 'ObjectPattern')
      for (const prop of p.properties) bind(prop.type === 'RestElement' ? prop.argument : prop.value);
    else if (p.type === 'ArrayPattern') for (const e of p.elements) bind(e);
    else if (p.type === 'RestElement') bind(p.argument);
    else if (p.type === 'AssignmentPattern') bind(p.left);
  };
  walk(program, (node) => {
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ClassDeclaration':
      case 'ClassExpression':
        if (node.id) fnLike.add(node.id.name);
        if ('params' in node) for (const param of node.params) bind(param);
        break;
      case 'ArrowFunctionExpression':
        for (const param of node.params) bind(param);
        break;
      case 'VariableDeclarator':
        bind(node.id);
        break;
      case 'CatchClause':
        bind(node.param);
        break;
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        other.add(node.local.name);
        break;
      case 'AssignmentExpression':
        bind(node.left as ESTree.Pattern);
        break;
      case 'UpdateExpression':
        bind(node.argument);
        break;
      case 'ForInStatement':
      case 'ForOfStatement':
        if (node.left.type !== 'VariableDeclaration') bind(node.left);
        break;
    }
  });
  for (const name of other) fnLike.delete(name);
  return fnLike;
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
