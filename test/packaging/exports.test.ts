// Shipping functions exported from ordinary modules (.ts, .mjs, .cjs), npm packages included: each
// bundle is imported by a fresh node process in an empty folder and called there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { packageFunction } from '../../src/packaging/index.js';
import { sha256Hex } from '../../src/packaging/hash.js';
import { callBundleInFreshProcess, importFrom, makeProject, removeTemps } from './harness.js';

type Fn = (...args: never[]) => unknown;

describe('packaging exported functions', () => {
  let project: string;
  before(() => {
    project = makeProject();
  });
  after(removeTemps);

  test('a TypeScript ES module export, with a local import and an npm package', async () => {
    const addSeven = await importFrom<Fn>(join(project, 'tasks.ts'), 'addSeven');
    const label = await importFrom<Fn>(join(project, 'tasks.ts'), 'label');
    const bundle = await packageFunction(addSeven);
    assert.equal(bundle.hash, sha256Hex(bundle.code));
    assert.match(bundle.description, /^addSeven \(.*tasks\.ts:\d+:\d+\)$/);
    assert.deepEqual(bundle.externals, []);
    assert.equal(bundle.packageRoot, project);
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [1, 10])).results, [8, 17]);

    const labelled = await packageFunction(label);
    assert.doesNotMatch(labelled.code, /from ["']tiny-pkg["']/, 'the npm package is bundled, not imported');
    assert.deepEqual((await callBundleInFreshProcess(labelled.code, [3])).results, [{ value: 3, label: 'N3!' }]);
  });

  test('members of exported objects and classes', async () => {
    const handlers = await importFrom<{ square: Fn }>(join(project, 'tasks.ts'), 'handlers');
    const Geometry = await importFrom<{ circleArea: Fn }>(join(project, 'tasks.ts'), 'Geometry');
    assert.deepEqual(
      (await callBundleInFreshProcess((await packageFunction(handlers.square)).code, [12])).results,
      [144],
    );
    assert.deepEqual(
      (await callBundleInFreshProcess((await packageFunction(Geometry.circleArea)).code, [2])).results,
      [13],
    );
  });

  test('a non-exported function of a module ships with the declarations it needs', async () => {
    const getNotExported = await importFrom<() => Fn>(join(project, 'tasks.ts'), 'getNotExported');
    const bundle = await packageFunction(getNotExported());
    assert.match(bundle.description, /^notExported /);
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [1])).results, [80]);
  });

  test('a plain JavaScript ES module: default export and import.meta.url', async () => {
    const greet = await importFrom<Fn>(join(project, 'plain.mjs'), 'default');
    const whereAmI = await importFrom<Fn>(join(project, 'plain.mjs'), 'whereAmI');
    assert.deepEqual((await callBundleInFreshProcess((await packageFunction(greet)).code, ['ann'])).results, [
      'HELLO ANN!',
    ]);
    // import.meta.url keeps its client-side value: the module's own folder, not the bundle's.
    const [here] = (await callBundleInFreshProcess((await packageFunction(whereAmI)).code, [0])).results;
    assert.equal(here, `${project}/`);
  });

  test('CommonJS exports: exports.name and module.exports, with require() of files and packages', async () => {
    const padded = await importFrom<Fn>(join(project, 'common.cjs'), 'padded');
    const home = await importFrom<Fn>(join(project, 'common.cjs'), 'home');
    const triple = await importFrom<Fn>(join(project, 'common-default.cjs'), 'default');
    assert.deepEqual((await callBundleInFreshProcess((await packageFunction(padded)).code, [21])).results, ['00042']);
    // __dirname inside a bundled CommonJS package keeps the package's own folder.
    assert.deepEqual((await callBundleInFreshProcess((await packageFunction(home)).code, [0])).results, [
      'tiny-cjs-pkg',
    ]);
    const tripleBundle = await packageFunction(triple);
    assert.match(tripleBundle.description, /^triple \(.*common-default\.cjs:/);
    assert.deepEqual((await callBundleInFreshProcess(tripleBundle.code, [5])).results, [15]);
  });

  test('a module with top-level await ships through a virtual entry, without its top-level code', async () => {
    const addStep = await importFrom<Fn>(join(project, 'top-level-await.mjs'), 'addStep');
    const bundle = await packageFunction(addStep);
    assert.doesNotMatch(bundle.code, /TOP-LEVEL AWAIT MODULE RAN/);
    const { results, run } = await callBundleInFreshProcess(bundle.code, [1]);
    assert.deepEqual(results, [3]);
    assert.doesNotMatch(run.stdout, /TOP-LEVEL AWAIT MODULE RAN/);
  });

  test('an import that cannot be resolved is a PackagingError that says what to do', async () => {
    const { PackagingError } = await import('../../src/errors.js');
    const { rmSync } = await import('node:fs');
    const broken = makeProject();
    rmSync(join(broken, 'node_modules', 'tiny-pkg'), { recursive: true });
    const label = await importFrom<Fn>(join(broken, 'plain.mjs'), 'whereAmI').catch(() => undefined);
    assert.equal(label, undefined, 'plain.mjs cannot even load without tiny-pkg');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(broken, 'late.mjs'),
      'export function late(x) { return import("tiny-pkg").then((m) => m.shout(x)); }\n',
    );
    const late = await importFrom<Fn>(join(broken, 'late.mjs'), 'late');
    await assert.rejects(packageFunction(late), (error: unknown) => {
      assert.ok(error instanceof PackagingError);
      assert.match(error.message, /cannot bundle late .*Could not resolve "tiny-pkg".*external option/s);
      return true;
    });
  });
});
