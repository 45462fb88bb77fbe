// esbuild's keepNames keeps `fn.name` and `Class.name` right where bundling renames a symbol
// (`BurstError`'s name is `new.target.name`), by calling `__name(target, "name")` after every function
// and class declaration. Most of those calls name a declaration what it is already called: each is a
// defineProperty at load time, ~10 µs apiece on the test machine, and the core bundle made 641 of them
// at every import, a worker thread's entry 363 at every start (issue 16).
// This blanks the calls that change nothing, keeping the others (renamed symbols, anonymous functions):
// - `__name(f, "f");` beside `function f` or `class f` in the same statement list;
// - `static { __name(this, "C"); }` in the body of `class C`, or of `C = class {…}`;
// - the call around an anonymous function given as `x = …`, `var x = …` or `{ x: … }`, which names it
//   `x` by itself (only the call's own text goes).
// They are overwritten with spaces, so every other column, and the source map, stays where it was.
import { readFile, writeFile } from 'node:fs/promises';
import * as acorn from 'acorn';

/** `code` with its redundant `__name` calls blanked; `removed` counts them. */
export function stripRedundantNames(code, sourceType) {
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType, allowHashBang: true });
  const safe = selfNamedBindings(ast);
  const ranges = [];
  visit(ast, (node) => {
    for (const s of statementList(node) ?? []) {
      const named = nameCall(s);
      if (named && named.target.type === 'Identifier' && named.target.name === named.name && safe.has(named.name))
        ranges.push([s.start, s.end]);
    }
    const wrapped = wrappedDefinition(node);
    if (wrapped) {
      ranges.push([wrapped.call.start, wrapped.fn.start]);
      ranges.push([wrapped.fn.end, wrapped.call.end]);
    }
    const cls = classAndName(node);
    if (cls)
      for (const member of cls.node.body.body) {
        if (member.type !== 'StaticBlock' || member.body.length !== 1) continue;
        const named = nameCall(member.body[0]);
        if (named && named.target.type === 'ThisExpression' && named.name === cls.name)
          ranges.push([member.start, member.end]);
      }
  });
  let out = code;
  for (const [start, end] of ranges.sort((a, b) => b[0] - a[0]))
    out = out.slice(0, start) + out.slice(start, end).replace(/[^\n]/g, ' ') + out.slice(end);
  return { code: out, removed: ranges.length };
}

/**
 * `x = __name(() => …, "x")` (or `var x =`, or `{ x: … }`): the function gets the name `x` without the
 * call, by named evaluation. Returns the call and the function, whose text stays.
 */
function wrappedDefinition(node) {
  let target;
  let value;
  if (node.type === 'VariableDeclarator') [target, value] = [node.id, node.init];
  else if (node.type === 'AssignmentExpression' && node.operator === '=') [target, value] = [node.left, node.right];
  else if (node.type === 'Property' && !node.computed && node.kind === 'init' && !node.method && !node.shorthand)
    [target, value] = [node.key, node.value];
  else return undefined;
  const name = target?.type === 'Identifier' ? target.name : target?.type === 'Literal' ? target.value : undefined;
  if (typeof name !== 'string' || !value) return undefined;
  const named = nameCall({ type: 'ExpressionStatement', expression: value });
  if (!named || named.name !== name) return undefined;
  const fn = named.target;
  const anonymous =
    fn.type === 'ArrowFunctionExpression' ||
    ((fn.type === 'FunctionExpression' || fn.type === 'ClassExpression') && !fn.id);
  return anonymous ? { call: value, fn } : undefined;
}

/**
 * A class and the name it has before its static blocks run: its own, or for an anonymous class the
 * name of the variable it is assigned to (JavaScript's named evaluation).
 */
function classAndName(node) {
  if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id)
    return { node, name: node.id.name };
  const [target, value] =
    node.type === 'VariableDeclarator'
      ? [node.id, node.init]
      : node.type === 'AssignmentExpression' && node.operator === '='
        ? [node.left, node.right]
        : [];
  if (value?.type === 'ClassExpression' && !value.id && target.type === 'Identifier')
    return { node: value, name: target.name };
  return undefined;
}

/**
 * Names that, wherever they are bound in the file, name a function or class of that very name and
 * are never assigned: `__name(f, "f")` cannot change anything whichever `f` it sees. (esbuild hoists a
 * module's declarations out of its lazy-init wrapper and leaves the `__name` calls inside it.)
 */
function selfNamedBindings(ast) {
  const fnLike = new Set();
  const other = new Set();
  const pattern = (p) => {
    if (!p) return;
    if (p.type === 'Identifier') other.add(p.name);
    else if (p.type === 'ObjectPattern')
      for (const prop of p.properties) pattern(prop.type === 'RestElement' ? prop.argument : prop.value);
    else if (p.type === 'ArrayPattern') for (const e of p.elements) pattern(e);
    else if (p.type === 'RestElement') pattern(p.argument);
    else if (p.type === 'AssignmentPattern') pattern(p.left);
    else if (p.type === 'MemberExpression') return;
    else other.add(`<${p.type}>`);
  };
  visit(ast, (node) => {
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ClassDeclaration':
      case 'ClassExpression':
        if (node.id) fnLike.add(node.id.name);
        for (const param of node.params ?? []) pattern(param);
        break;
      case 'ArrowFunctionExpression':
        for (const param of node.params) pattern(param);
        break;
      case 'VariableDeclarator':
        pattern(node.id);
        break;
      case 'CatchClause':
        pattern(node.param);
        break;
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        other.add(node.local.name);
        break;
      case 'AssignmentExpression':
        pattern(node.left);
        break;
      case 'UpdateExpression':
        pattern(node.argument);
        break;
      case 'ForInStatement':
      case 'ForOfStatement':
        if (node.left.type !== 'VariableDeclaration') pattern(node.left);
        break;
    }
  });
  for (const name of other) fnLike.delete(name);
  return fnLike;
}

/** Strips each file in place; returns how many calls went. */
export async function stripNamesInFiles(files, sourceType) {
  let removed = 0;
  for (const file of files) {
    const r = stripRedundantNames(await readFile(file, 'utf8'), sourceType);
    removed += r.removed;
    await writeFile(file, r.code);
  }
  return removed;
}

/** `{ target, name }` when `statement` is exactly `__name(target, "name");`. */
function nameCall(statement) {
  if (statement.type !== 'ExpressionStatement') return undefined;
  const call = statement.expression;
  if (call.type !== 'CallExpression' || call.callee.type !== 'Identifier' || call.callee.name !== '__name')
    return undefined;
  if (call.arguments.length !== 2) return undefined;
  const [target, name] = call.arguments;
  if (name.type !== 'Literal' || typeof name.value !== 'string') return undefined;
  return { target, name: name.value };
}

/** The statements `node` holds in order, when it holds a list of them. */
function statementList(node) {
  if (node.type === 'Program' || node.type === 'BlockStatement' || node.type === 'StaticBlock') return node.body;
  if (node.type === 'SwitchCase') return node.consequent;
  return undefined;
}

function visit(node, fn) {
  fn(node);
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === 'string') visit(c, fn);
    } else if (v && typeof v.type === 'string') visit(v, fn);
  }
}
