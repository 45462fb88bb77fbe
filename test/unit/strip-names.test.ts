import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import * as esbuild from 'esbuild';
// @ts-expect-error: a build script, plain JavaScript without types
import { stripRedundantNames } from '../../scripts/strip-names.mjs';

const strip = stripRedundantNames as (
  code: string,
  sourceType: 'module' | 'script',
) => { code: string; removed: number };

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

async function bundle(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strip-names-'));
  try {
    await writeFile(join(dir, 'a.js'), A);
    await writeFile(join(dir, 'b.js'), B);
    await writeFile(join(dir, 'entry.js'), ENTRY);
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
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function namesOf(code: string): string[] {
  const module = { exports: {} as { names: () => string[] } };
  runInNewContext(code, { module, exports: module.exports });
  return Array.from(module.exports.names(), String); // an array of this realm
}

test('stripping the redundant __name calls of a bundle changes no function or class name, renamed ones included', async () => {
  const code = await bundle();
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
  const { code: stripped, removed } = strip(code, 'script');
  assert.deepEqual(namesOf(stripped), before);
  assert.ok(removed > 0, 'some calls went');
  // What is left names a symbol bundling renamed (read2, Thing2, arrow2): esbuild's own suffix.
  const left = [...stripped.matchAll(/__name\(([^,]*),\s*"([^"]*)"\)/g)].map((m) => [m[1], m[2]]);
  assert.ok(left.length > 0, 'the renamed symbols keep theirs');
  for (const [target, name] of left) assert.notEqual(target, name, `__name(${target}, "${name}") changes nothing`);
});

test('stripping keeps every column: the source map of the bundle still points at the same places', async () => {
  const code = await bundle();
  const { code: stripped } = strip(code, 'script');
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
  const { code: stripped, removed } = strip(code, 'script');
  assert.equal(removed, 1);
  assert.ok(!stripped.includes('__name(f, "f")'));
  assert.ok(stripped.includes('__name(g, "g")'));
  assert.ok(stripped.includes('__name(h, "h")'));
});
