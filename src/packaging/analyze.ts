/**
 * Static analysis of the script a function came from: parse it (acorn), resolve every identifier to
 * its declaration (eslint-scope), find the function node V8 pointed at, and classify what the function
 * refers to from outside itself: module-level bindings (shippable), globals (fine) and local
 * variables of an enclosing function (not shippable: they only exist in the client's memory).
 */
import { parse, type Options as AcornOptions } from 'acorn';
import { analyze, type Scope, type ScopeManager, type Variable } from 'eslint-scope';
import { KEYS } from 'eslint-visitor-keys';
import type * as ESTree from 'estree';
import { PackagingError } from '../errors.js';
import { notebookCellWrapper } from './notebook-cell.js';

/** An ESTree node with acorn's source offsets. */
export type SourceNode = ESTree.Node & { start: number; end: number };
/** A function node: declaration, expression (incl. methods' values) or arrow. */
export type FunctionNode = (ESTree.FunctionDeclaration | ESTree.FunctionExpression | ESTree.ArrowFunctionExpression) & {
  start: number;
  end: number;
};

/** A parsed and scope-analysed script. */
export interface ScriptAnalysis {
  source: string;
  isModule: boolean;
  program: ESTree.Program & { start: number; end: number };
  manager: ScopeManager;
  /** The module scope (ESM) or the CommonJS wrapper's function scope: where top-level bindings live. */
  top: Scope;
  /** The node holding the top-level statements: the program, or the body of tsx's CommonJS wrapper. */
  body: SourceNode;
  /** The top-level statements. */
  statements: SourceNode[];
  parents: WeakMap<ESTree.Node, SourceNode>;
  functions: FunctionNode[];
  /** References anywhere in the script that resolve to a top-level binding, by identifier offset. */
  topReferences: Array<{ start: number; variable: Variable }>;
  /** True when the module awaits at top level (it probably drives work itself, like a main script). */
  hasTopLevelAwait: boolean;
}

/** What a function refers to outside itself. */
export interface FreeReferences {
  topLevel: Set<Variable>;
  globals: Set<string>;
  /** Names of local variables of enclosing functions or blocks the function captures. */
  captured: string[];
}

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** Parses and analyses `source`. @throws PackagingError when it does not parse. */
export function analyzeScript(source: string, isModule: boolean, where: string): ScriptAnalysis {
  const program = parseProgram(source, isModule, where);
  const manager = analyze(program, {
    ecmaVersion: 2022,
    sourceType: isModule ? 'module' : 'commonjs',
    childVisitorKeys: KEYS,
    fallback: 'iteration',
  });
  const parents = new WeakMap<ESTree.Node, SourceNode>();
  const functions: FunctionNode[] = [];
  walk(program, (node, parent) => {
    if (parent) parents.set(node, parent);
    if (FUNCTION_TYPES.has(node.type)) functions.push(node as FunctionNode);
  });
  // ESM: the module scope; CommonJS: the wrapper function scope (sourceType 'commonjs'), or the
  // scope of the arrow function tsx wraps CommonJS output in, or of the function tslab wraps a cell in.
  const wrapper = isModule ? undefined : (tsxCommonJsWrapper(program) ?? notebookCellWrapper(program, source));
  const top = wrapper ? manager.acquire(wrapper) : manager.globalScope?.childScopes[0];
  if (!top) throw new PackagingError(`cannot analyse ${where}: no top-level scope`);
  const body = (wrapper ? wrapper.body : program) as SourceNode;
  const statements = (wrapper ? (wrapper.body as ESTree.BlockStatement).body : program.body) as SourceNode[];
  const topReferences: ScriptAnalysis['topReferences'] = [];
  for (const scope of manager.scopes) {
    for (const ref of scope.references) {
      const variable = ref.resolved && topLevelOf(ref.resolved, top, body, parents);
      if (variable) topReferences.push({ start: (ref.identifier as SourceNode).start, variable });
    }
  }
  topReferences.sort((a, b) => a.start - b.start);
  return {
    source,
    isModule,
    program,
    manager,
    top,
    body,
    statements,
    parents,
    functions,
    topReferences,
    hasTopLevelAwait: hasTopLevelAwait(program),
  };
}

/**
 * tsx compiles a CommonJS `.ts` file to `__filename="...";(()=>{ ...the module... })()`: the arrow's
 * body then holds what were the file's top-level statements.
 */
function tsxCommonJsWrapper(program: ESTree.Program): ESTree.ArrowFunctionExpression | undefined {
  const last = program.body[program.body.length - 1];
  if (last?.type !== 'ExpressionStatement' || last.expression.type !== 'CallExpression') return undefined;
  const callee = last.expression.callee;
  if (callee.type !== 'ArrowFunctionExpression' || callee.params.length > 0 || callee.body.type !== 'BlockStatement')
    return undefined;
  const before = program.body.slice(0, -1);
  const onlyFilename = before.every(
    (s) =>
      s.type === 'ExpressionStatement' &&
      s.expression.type === 'AssignmentExpression' &&
      s.expression.left.type === 'Identifier' &&
      s.expression.left.name === '__filename',
  );
  return before.length > 0 && onlyFilename ? callee : undefined;
}

function parseProgram(source: string, isModule: boolean, where: string): ScriptAnalysis['program'] {
  const options: AcornOptions = isModule
    ? { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, ranges: true }
    : {
        ecmaVersion: 'latest',
        sourceType: 'script',
        allowHashBang: true,
        allowReturnOutsideFunction: true,
        allowAwaitOutsideFunction: true,
        ranges: true,
      };
  try {
    return parse(source, options) as unknown as ScriptAnalysis['program'];
  } catch (cause) {
    throw new PackagingError(`cannot parse ${where}: ${(cause as Error).message}`, { cause });
  }
}

/** The innermost function whose head (before its body) contains `offset`: V8 reports a function there. */
export function findFunctionAt(analysis: ScriptAnalysis, offset: number): FunctionNode | undefined {
  let best: FunctionNode | undefined;
  for (const fn of analysis.functions) {
    const bodyStart = (fn.body as SourceNode).start;
    if (fn.start <= offset && offset < bodyStart && (!best || fn.end - fn.start < best.end - best.start)) best = fn;
  }
  return best;
}

/** Classifies the references of `fn` that it does not declare itself. */
export function freeReferences(analysis: ScriptAnalysis, fn: FunctionNode): FreeReferences {
  const result: FreeReferences = { topLevel: new Set(), globals: new Set(), captured: [] };
  const scope = analysis.manager.acquire(fn);
  if (!scope) return result;
  for (const ref of scope.through) {
    const variable = ref.resolved;
    if (!variable || variable.scope.type === 'global') {
      result.globals.add(ref.identifier.name);
      continue;
    }
    const top = topLevelOf(variable, analysis.top, analysis.body, analysis.parents);
    if (top) result.topLevel.add(top);
    else if (!variable.defs.some((def) => def.node === fn) && !result.captured.includes(variable.name)) {
      result.captured.push(variable.name);
    }
  }
  return result;
}

/**
 * The top-level binding a variable stands for: itself when declared at top level, or the outer
 * binding of a top-level class when it is that class's inner name (`class A { m() { new A() } }`).
 */
function topLevelOf(
  variable: Variable,
  top: Scope,
  body: SourceNode,
  parents: WeakMap<ESTree.Node, SourceNode>,
): Variable | undefined {
  if (variable.scope === top) return variable;
  const def = variable.defs[0];
  if (variable.scope.type === 'class' && def?.type === 'ClassName' && def.node.type === 'ClassDeclaration') {
    const parent = parents.get(def.node);
    const atTop = parent === body || (parent && isExport(parent) && parents.get(parent) === body);
    if (atTop) return top.set.get(variable.name);
  }
  return undefined;
}

function isExport(node: ESTree.Node): boolean {
  return node.type === 'ExportNamedDeclaration' || node.type === 'ExportDefaultDeclaration';
}

/** The name under which the default export binding is kept when it is not a named declaration. */
export const DEFAULT_EXPORT = 'default';

/**
 * How to reach `fn` from a top-level binding: `root` (a binding name, or {@link DEFAULT_EXPORT} for an
 * anonymous `export default`) followed by property `keys` (`obj.m`, `Cls.prototype.m`, `Cls.s`).
 * Undefined when `fn` is not reachable that way (an inline arrow in a call, a closure).
 */
export function accessPath(analysis: ScriptAnalysis, fn: FunctionNode): { root: string; keys: string[] } | undefined {
  const { parents } = analysis;
  const keys: string[] = [];
  let current: SourceNode = fn;
  for (;;) {
    const parent = parents.get(current);
    if (!parent) return undefined;
    if (isNameWrapper(parent, current)) {
      current = parent;
      continue;
    }
    if (parent === analysis.body || isExport(parent)) {
      if (!isTopLevelStatement(analysis, current)) return undefined;
      if ((current.type === 'FunctionDeclaration' || current.type === 'ClassDeclaration') && current.id)
        return { root: current.id.name, keys };
      return parent.type === 'ExportDefaultDeclaration' ? { root: DEFAULT_EXPORT, keys } : undefined;
    }
    if (parent.type === 'VariableDeclarator') {
      const declaration = parents.get(parent);
      const atTop = declaration && isTopLevelStatement(analysis, declaration);
      return parent.init === current && parent.id.type === 'Identifier' && atTop
        ? { root: parent.id.name, keys }
        : undefined;
    }
    const step = memberStep(parent, current, parents);
    if (!step) return undefined;
    keys.unshift(...step.keys);
    current = step.owner;
  }
}

/** One step up from a property value to the object or class that holds it. */
function memberStep(
  parent: SourceNode,
  value: SourceNode,
  parents: WeakMap<ESTree.Node, SourceNode>,
): { keys: string[]; owner: SourceNode } | undefined {
  if (parent.type === 'Property') {
    const key = staticKey(parent);
    const owner = parents.get(parent);
    return parent.value === value && parent.kind === 'init' && key !== undefined && owner
      ? { keys: [key], owner }
      : undefined;
  }
  if (parent.type === 'MethodDefinition' || parent.type === 'PropertyDefinition') {
    const key = staticKey(parent);
    const body = parents.get(parent);
    const owner = body && parents.get(body);
    if (key === undefined || !owner || parent.value !== value) return undefined;
    if (parent.type === 'MethodDefinition' && parent.kind !== 'method') return undefined;
    if (parent.type === 'PropertyDefinition' && !parent.static) return undefined;
    return { keys: parent.static ? [key] : ['prototype', key], owner };
  }
  return undefined;
}

/** The static name of a property or class member key, if it has one. */
export function staticKey(
  node: ESTree.Property | ESTree.MethodDefinition | ESTree.PropertyDefinition,
): string | undefined {
  const key = node.key;
  if (!node.computed && key.type === 'Identifier') return key.name;
  if (key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number'))
    return String(key.value);
  return undefined;
}

/** `__name(fn, "fn")`: the wrapper esbuild's keepNames (and so tsx) puts around named values. */
export function isNameWrapper(node: SourceNode, child: SourceNode): boolean {
  return (
    node.type === 'CallExpression' &&
    node.callee.type === 'Identifier' &&
    node.callee.name === '__name' &&
    node.arguments[0] === child &&
    node.arguments.length === 2
  );
}

/** True when `node` is a statement of the program, directly or inside an `export`. */
export function isTopLevelStatement(analysis: ScriptAnalysis, node: ESTree.Node): boolean {
  const parent = analysis.parents.get(node);
  if (parent === analysis.body) return true;
  return parent !== undefined && isExport(parent) && analysis.parents.get(parent) === analysis.body;
}

function hasTopLevelAwait(program: ESTree.Program): boolean {
  let found = false;
  walk(program, (node) => {
    if (node.type === 'AwaitExpression' || (node.type === 'ForOfStatement' && node.await)) found = true;
    return !found && !FUNCTION_TYPES.has(node.type) && node.type !== 'ClassBody';
  });
  return found;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a visitor that returns nothing means "go on", as one that returns true
type VisitResult = boolean | void;

/** Depth-first walk; `visit` returning false skips the node's children. */
export function walk(
  root: ESTree.Node,
  visit: (node: SourceNode, parent: SourceNode | undefined) => VisitResult,
): void {
  const stack: Array<[SourceNode, SourceNode | undefined]> = [[root as SourceNode, undefined]];
  while (stack.length > 0) {
    const [node, parent] = stack.pop()!;
    if (visit(node, parent) === false) continue;
    const keys = (KEYS as Record<string, readonly string[] | undefined>)[node.type] ?? [];
    for (let k = keys.length - 1; k >= 0; k--) {
      const child = (node as unknown as Record<string, unknown>)[keys[k]!];
      if (Array.isArray(child)) {
        for (let i = child.length - 1; i >= 0; i--) if (isNode(child[i])) stack.push([child[i], node]);
      } else if (isNode(child)) stack.push([child, node]);
    }
  }
}

function isNode(value: unknown): value is SourceNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
