// Native addons and packages listed in `external` stay out of the bundle and load from the runtime's
// own node_modules (through loadBundle's cache folder under <runtimeDir>/node_modules/.cache).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageFunction } from '../../src/packaging/index.js';
import { isNativePackage, packageNameOf } from '../../src/packaging/native.js';
import { importFrom, loadInFreshProcess, makeProject, makeRuntime, removeTemps, resultOf, tempDir } from './harness.js';

type Fn = (...args: never[]) => unknown;

describe('packages left external', () => {
  let project: string;
  before(() => {
    project = makeProject();
  });
  after(removeTemps);

  test('a native-looking package is detected, left external and loaded from the runtime dir', async () => {
    const addAndShout = await importFrom<Fn>(join(project, 'native-user.mjs'), 'addAndShout');
    const bundle = await packageFunction(addAndShout);
    assert.deepEqual(bundle.externals, ['native-thing']);
    assert.equal(bundle.packageRoot, project);
    assert.doesNotMatch(bundle.code, /a \+ b/, "the native package's code is not in the bundle");
    assert.match(bundle.code, /toUpperCase/, 'the plain package is bundled');

    const runtime = makeRuntime(['native-thing']);
    const result = resultOf(await loadInFreshProcess(bundle.hash, bundle.code, [2, 3], runtime)) as Record<
      string,
      unknown
    >;
    assert.equal(result.sum, 5);
    assert.equal(result.loud, 'OK!');
    assert.equal(result.nativeFrom, join(runtime, 'node_modules', 'native-thing', 'index.js'));
  });

  test('without the package in the runtime, loading fails', async () => {
    const addAndShout = await importFrom<Fn>(join(project, 'native-user.mjs'), 'addAndShout');
    const bundle = await packageFunction(addAndShout);
    const run = await loadInFreshProcess(bundle.hash, bundle.code, [2, 3], makeRuntime([]));
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /Cannot find (package|module) 'native-thing'/);
  });

  test('options.external leaves a plain package out too', async () => {
    const greet = await importFrom<Fn>(join(project, 'plain.mjs'), 'default');
    const bundle = await packageFunction(greet, { external: ['tiny-pkg'] });
    assert.deepEqual(bundle.externals, ['tiny-pkg']);
    assert.match(bundle.code, /from "tiny-pkg"/);
    const bundled = await packageFunction(greet);
    assert.notEqual(bundled.hash, bundle.hash, 'options are part of the cache key');
    assert.equal(
      resultOf(await loadInFreshProcess(bundle.hash, bundle.code, 'bo', makeRuntime(['tiny-pkg']))),
      'HELLO BO!',
    );
  });

  test('an external CommonJS package imported by name from ESM is loaded with require', async () => {
    const file = join(project, 'cjs-external.mjs');
    writeFileSync(file, "import { pad } from 'tiny-cjs-pkg';\nexport const padThree = (x) => pad(x, 3);\n");
    const padThree = await importFrom<Fn>(file, 'padThree');
    const bundle = await packageFunction(padThree, { external: ['tiny-cjs-pkg'] });
    assert.deepEqual(bundle.externals, ['tiny-cjs-pkg']);
    assert.equal(resultOf(await loadInFreshProcess(bundle.hash, bundle.code, 7, makeRuntime(['tiny-cjs-pkg']))), '007');
  });
});

describe('native package detection', () => {
  after(removeTemps);

  function fakePackage(files: Record<string, string>): string {
    const dir = tempDir('burst-pkg-');
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    return dir;
  }

  test('signals of a native package', () => {
    const pkg = (extra: object): string => JSON.stringify({ name: 'x', version: '1.0.0', ...extra });
    assert.equal(isNativePackage(fakePackage({ 'package.json': pkg({}), 'index.js': '' })), false);
    assert.equal(isNativePackage(fakePackage({ 'package.json': pkg({ gypfile: true }) })), true);
    assert.equal(isNativePackage(fakePackage({ 'package.json': pkg({}), 'binding.gyp': '{}' })), true);
    assert.equal(
      isNativePackage(fakePackage({ 'package.json': pkg({ dependencies: { 'node-gyp-build': '4' } }) })),
      true,
    );
    assert.equal(isNativePackage(fakePackage({ 'package.json': pkg({ dependencies: { bindings: '1' } }) })), true);
    assert.equal(
      isNativePackage(fakePackage({ 'package.json': pkg({ dependencies: { 'prebuild-install': '7' } }) })),
      true,
    );
    assert.equal(isNativePackage(fakePackage({ 'package.json': pkg({}), 'addon.node': '' })), true);
    assert.equal(isNativePackage(fakePackage({ 'package.json': pkg({}), 'build/Release/addon.node': '' })), true);
    assert.equal(
      isNativePackage(fakePackage({ 'package.json': pkg({ optionalDependencies: { '@img/sharp-linux-x64': '1' } }) })),
      true,
    );
    assert.equal(isNativePackage(fakePackage({ 'package.json': pkg({ dependencies: { 'left-pad': '1' } }) })), false);
  });

  test('package names of specifiers', () => {
    assert.equal(packageNameOf('sharp'), 'sharp');
    assert.equal(packageNameOf('lodash/fp/map'), 'lodash');
    assert.equal(packageNameOf('@scope/pkg/sub/path'), '@scope/pkg');
    for (const notBare of ['./x', '../x', '/abs', 'node:fs', 'fs', '#internal', 'data:text/javascript,1', '@scope']) {
      assert.equal(packageNameOf(notBare), undefined, notBare);
    }
  });
});
