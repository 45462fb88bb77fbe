/**
 * Function names in a bundle (src/packaging/names.ts): esbuild's keepNames wraps every anonymous
 * function in `__name(fn, "name")`; the wrappers JavaScript's own name inference makes redundant are
 * blanked out (they cost a Monte Carlo kernel ~3 %), the others stay, every name is still right, and
 * every line and column is where it was, so the source map still points at the right places. The
 * calls after declarations (`__name(f, "f")`) and in static blocks go too when they change nothing:
 * Burst's own bundles are built with the same pass (scripts/build-*.mjs).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle } from '../../src/packaging/bundle.ts';
import { dropRedundantNames } from '../../src/packaging/names.ts';
import { removeTemps, tempDir } from './harness.ts';

after(removeTemps);

const HELPER = 'var __name = (target, value) => __defProp(target, "name", { value, configurable: true });\n';

/** Offsets of every line break: equal lists mean every line and column stayed where it was. */
const breaks = (s: string): number[] => [...s.matchAll(/\n/g)].map((m) => m.index);

test('real esbuild output: the redundant wrappers go, the renaming ones stay, and every name is right', async () => {
  const dir = tempDir();
  // Two modules with a top-level `helper`: bundling renames one of them, which keepNames exists for.
  writeFileSync(join(dir, 'other.mjs'), 'export function helper() { return "other"; }\n');
  writeFileSync(
    join(dir, 'main.mjs'),
    [
      "import { helper as otherHelper } from './other.mjs';",
      'function helper() { return "main"; }',
      'export function kernel(seed) {',
      '  let a = seed;',
      '  const rand = () => (a = (a * 31 + 7) % 1000) / 1000;',
      '  const ops = { twice: (x) => 2 * x, half: function (x) { return x / 2; } };',
      '  let later;',
      '  later = () => rand();',
      '  const named = function inner() { return 1; };',
      '  return [rand.name, ops.twice.name, ops.half.name, later.name, named.name, helper.name, otherHelper.name, ops.twice(rand()) > -1];',
      '}',
      '',
    ].join('\n'),
  );
  const out = await bundle({
    entry: "export { kernel } from './main.mjs';\n",
    resolveDir: dir,
    sourcefile: '<entry>',
    external: [],
    sourceMap: true,
    description: 'the names fixture',
  });
  const body = (line: string): string => out.code.split('\n').find((l) => l.includes(line)) ?? '';
  for (const site of ['const rand =', 'twice:', 'half:', 'later =']) {
    assert.ok(body(site), `the bundle has ${site}`);
    assert.doesNotMatch(body(site), /__name\(/, `${site} is no longer wrapped`);
  }
  assert.match(out.code, /__name\(helper\d*, "helper"\)/, 'a renamed function keeps its wrapper');
  const file = join(dir, 'bundle.mjs');
  writeFileSync(file, out.code);
  const { kernel } = (await import(pathToFileURL(file).href)) as { kernel: (seed: number) => unknown[] };
  assert.deepEqual(kernel(3), ['rand', 'twice', 'half', 'later', 'inner', 'helper', 'helper', true]);
});

test('the pass keeps every line and column, and leaves what it must not touch', () => {
  const code = [
    'var __defProp = Object.defineProperty;',
    HELPER.trimEnd(),
    'const rand = /* @__PURE__ */ __name(() => {',
    '  return 4;',
    '}, "rand");',
    'const renamed2 = __name(() => 1, "renamed");',
    'const fnExpr = __name(function own() {}, "fnExpr");',
    'const other = __name(() => 2, "label", extra);',
    'export { rand, renamed2, fnExpr, other };',
    '',
  ].join('\n');
  const out = dropRedundantNames(code);
  assert.equal(out.length, code.length);
  assert.deepEqual(breaks(out), breaks(code));
  assert.match(out, /const rand = \/\* @__PURE__ \*\/ {8}\(\) => \{\n {2}return 4;\n\} {9};/);
  for (const kept of [
    '__name(() => 1, "renamed")',
    '__name(function own() {}, "fnExpr")',
    '__name(() => 2, "label", extra)',
  ])
    assert.ok(out.includes(kept), `${kept} stays`);
  // A second `__name` binding (a bundled file's own) may mean something else: nothing changes.
  const shadowed = `${code}function wrap(__name) { return __name; }\n`;
  assert.equal(dropRedundantNames(shadowed), shadowed);
  // Code acorn cannot parse is left as esbuild wrote it.
  assert.equal(dropRedundantNames('const x = __name(() => 1, "x"); )('), 'const x = __name(() => 1, "x"); )(');
});

const count = (s: string): number => s.split('__name(').length - 1;

// Two modules whose top-level names collide, so bundling renames one of each pair: those must keep
// their `__name` call, every other one may go.
const A = `
export function read() { return 'a'; }
export class Thing extends Error {}
export const arrow = () => 1;
export const obj = { method: () => 2, nested: function () { return 3; } };
export let later;
later = class {};
export async function* gen() {}
`;
const B = `
export function read() { return 'b'; }
export class Thing {}
export const arrow = () => 4;
`;
const ENTRY = `
import * as a from './a.js';
import * as b from './b.js';
export const names = () => [
  a.read.name, b.read.name, a.Thing.name, b.Thing.name, a.arrow.name, b.arrow.name,
  a.obj.method.name, a.obj.nested.name, a.later.name, a.gen.name, new a.Thing('x').constructor.name,
];
`;

async function bundleTwoModules(): Promise<string> {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.js'), A);
  writeFileSync(join(dir, 'b.js'), B);
  writeFileSync(join(dir, 'entry.js'), ENTRY);
  const out = await esbuild.build({
    entryPoints: [join(dir, 'entry.js')],
    bundle: true,
    format: 'cjs',
    keepNames: true,
    minifyWhitespace: true,
    write: false,
    logLevel: 'silent',
  });
  return (out.outputFiles[0] as { text: string }).text;
}

function namesOf(code: string): string[] {
  const module = { exports: {} as { names: () => string[] } };
  runInNewContext(code, { module, exports: module.exports });
  return Array.from(module.exports.names(), String); // an array of this realm
}

test('the calls after declarations and in static blocks go too, and no function or class changes its name', async () => {
  const code = await bundleTwoModules();
  const before = namesOf(code);
  assert.deepEqual(before, [
    'read',
    'read',
    'Thing',
    'Thing',
    'arrow',
    'arrow',
    'method',
    'nested',
    'later',
    'gen',
    'Thing',
  ]);
  const stripped = dropRedundantNames(code, 'script');
  assert.deepEqual(namesOf(stripped), before);
  assert.ok(count(stripped) < count(code), 'some calls went');
  // What is left names a symbol bundling renamed (read2, Thing2, arrow2): esbuild's own suffix.
  const left = [...stripped.matchAll(/__name\(([^,]*),\s*"([^"]*)"\)/g)].map((m) => [m[1], m[2]]);
  assert.ok(left.length > 0, 'the renamed symbols keep theirs');
  for (const [target, name] of left) assert.notEqual(target, name, `__name(${target}, "${name}") changes nothing`);
});

test('so does every line and column of such a bundle', async () => {
  const code = await bundleTwoModules();
  const stripped = dropRedundantNames(code, 'script');
  assert.equal(stripped.length, code.length);
  assert.deepEqual(
    stripped.split('\n').map((l) => l.length),
    code.split('\n').map((l) => l.length),
  );
});

test('a __name call is kept when its name is also bound to something else or assigned', () => {
  const code = [
    'var __name = (t, v) => Object.defineProperty(t, "name", { value: v, configurable: true });',
    'function f() {}',
    '__name(f, "f");',
    'function g() {}',
    '__name(g, "g");',
    'g = () => 1;',
    'function h() {}',
    '__name(h, "h");',
    '{ let h = 1; }',
  ].join('\n');
  const stripped = dropRedundantNames(code, 'script');
  assert.equal(count(stripped), count(code) - 1);
  assert.ok(!stripped.includes('__name(f, "f")'));
  assert.ok(stripped.includes('__name(g, "g")'));
  assert.ok(stripped.includes('__name(h, "h")'));
});
