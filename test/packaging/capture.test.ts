// Inline functions and closures: what can ship (parameters, globals, module-level bindings) and what
// is refused before anything runs (local variables of an enclosing function, bound and built-in
// functions).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PackagingError } from '../../src/errors.js';
import { packageFunction } from '../../src/packaging/index.js';
import { callBundleInFreshProcess, importFrom, makeProject, removeTemps } from './harness.js';

type Fn = (x: number) => number;
const MODULE_LEVEL_FACTOR = 3;
const MODULE_OPS = { half: (x: number): number => x / 2, marker: 'NOT-SHIPPED-MARKER' };

function expectPackagingError(pattern: RegExp, captured?: string[]): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof PackagingError, `expected a PackagingError, got ${String(error)}`);
    assert.equal(error.code, 'PACKAGING');
    assert.match(error.message, pattern);
    assert.deepEqual(error.capturedVariables, captured);
    return true;
  };
}

describe('packaging inline functions and closures', () => {
  let project: string;
  before(() => {
    project = makeProject();
  });
  after(removeTemps);

  test('an inline arrow that uses only its parameters and globals', async () => {
    const bundle = await packageFunction((x: number) => Math.sqrt(x) * 2);
    assert.match(bundle.description, /^anonymous function \(.*capture\.test\.ts:\d+:\d+\)$/);
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [16, 81])).results, [8, 18]);
  });

  test('an inline arrow that uses module-level constants, functions and imports', async () => {
    const bundle = await packageFunction((x: number) => expectPackagingError.name.length + x * MODULE_LEVEL_FACTOR);
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [2])).results, ['expectPackagingError'.length + 6]);
  });

  test('a closure over module-level bindings only, created inside a function', async () => {
    const make = await importFrom<() => Fn>(join(project, 'closures.ts'), 'makeModuleLevelUser');
    const bundle = await packageFunction(make());
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [4])).results, [54]);
  });

  test('a named function inside another that calls itself by name', async () => {
    const make = await importFrom<() => Fn>(join(project, 'closures.ts'), 'makeFactorial');
    const bundle = await packageFunction(make());
    assert.match(bundle.description, /^fact /);
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [5])).results, [120]);
  });

  test('capturing a local variable of an enclosing function is refused, naming the variable', async () => {
    const makeAdder = await importFrom<(k: number) => Fn>(join(project, 'closures.ts'), 'makeAdder');
    await assert.rejects(packageFunction(makeAdder(2)), expectPackagingError(/"k".*extraArgs.*module level/s, ['k']));
    const local = 5;
    await assert.rejects(
      packageFunction((x: number) => x + local),
      expectPackagingError(/capture\.test\.ts.*captures the local variable "local"/, ['local']),
    );
  });

  test('several captured variables are all named', async () => {
    const make = await importFrom<() => Fn>(join(project, 'closures.ts'), 'makeTwoCaptures');
    await assert.rejects(packageFunction(make()), expectPackagingError(/"base", "scale"/, ['base', 'scale']));
  });

  test('a function stored in a module-level object ships without the rest of the object', async () => {
    const bundle = await packageFunction(MODULE_OPS.half);
    assert.doesNotMatch(bundle.code, /NOT-SHIPPED-MARKER/);
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [9])).results, [4.5]);
  });

  test("using a CommonJS module's own exports, or a var declared in a top-level block, is refused", async () => {
    const getAddBase = await importFrom<() => Fn>(join(project, 'common-self.cjs'), 'getAddBase');
    await assert.rejects(
      packageFunction(getAddBase()),
      expectPackagingError(/addBase .*"module"\/"exports".*separate module/),
    );
    const makeUser = await importFrom<() => Fn>(join(project, 'block-var.mjs'), 'makeUser');
    await assert.rejects(
      packageFunction(makeUser()),
      expectPackagingError(/"fromBlock", which is not declared by a plain top-level statement/),
    );
  });

  test('bound, built-in and non-functions are refused', async () => {
    const double = (x: number): number => x * 2;
    await assert.rejects(packageFunction(double.bind(null)), expectPackagingError(/bound function.*extraArgs/));
    await assert.rejects(packageFunction(Math.max), expectPackagingError(/"max".*built-in/));
    await assert.rejects(packageFunction(42 as unknown as Fn), expectPackagingError(/expected a function.*number/));
    const { join: joinPaths } = await import('node:path');
    await assert.rejects(packageFunction(joinPaths), expectPackagingError(/"join".*part of Node\.js itself/));
  });

  test('a method of an anonymous class instance is refused with a way out', async () => {
    const make = await importFrom<() => Fn>(join(project, 'closures.ts'), 'makeMethod');
    await assert.rejects(packageFunction(make()), expectPackagingError(/twice .*method .*wrapper/));
  });

  test('the same function, or the same inline site, is packaged once', async () => {
    const fn = (x: number): number => x + 1;
    const first = await packageFunction(fn);
    assert.equal(await packageFunction(fn), first, 'same function object: the cached bundle');
    const hashes = new Set<string>();
    for (let i = 0; i < 3; i++) hashes.add((await packageFunction((x: number) => x - 1)).hash);
    assert.equal(hashes.size, 1, 'a new closure at the same site reuses the bundle');
    const started = performance.now();
    for (let i = 0; i < 100; i++) await packageFunction((x: number) => x - 1);
    console.log(`# 100 repeated packagings of an inline site: ${(performance.now() - started).toFixed(1)} ms`);
  });
});
