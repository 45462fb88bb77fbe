// The CommonJS twin of a bundle (packaging/bundle.ts), which this machine's pool loads without Node's
// ES module loader: made only when the code allows it, and computing what the ES module computes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageFunction } from '../../src/packaging/index.js';
import { sha256Hex } from '../../src/packaging/hash.js';
import { callBundleInFreshProcess, importFrom, makeProject, removeTemps, runNode, tempDir } from './harness.js';

type Fn = (...args: never[]) => unknown;

/** Requires `code` as a `.cjs` file in a fresh `node` (no tsx, no node_modules around) and calls its default export. */
async function requireInFreshProcess(code: string, input: unknown): Promise<unknown> {
  const dir = tempDir('burst-twin-');
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, code);
  const script = `Promise.resolve(require(${JSON.stringify(file)}).default(${JSON.stringify(input)})).then((r) => process.stdout.write('RESULT ' + JSON.stringify(r)))`;
  const run = await runNode(['-e', script], { cwd: dir });
  const line = run.stdout.split('RESULT ')[1];
  if (run.code !== 0 || line === undefined) throw new Error(`process failed (exit ${run.code}):\n${run.stderr}`);
  return JSON.parse(line);
}

describe('the CommonJS twin of a bundle', () => {
  let project: string;
  before(() => {
    project = makeProject();
    writeFileSync(
      join(project, 'twin-plain.mjs'),
      [
        "import { shout } from 'tiny-pkg';",
        "import { createHash } from 'node:crypto';",
        'export function probe(x) {',
        '  const self = (function () { return this; })();',
        "  return { loud: shout(String(x)), strict: self === undefined, url: import.meta.url, dir: import.meta.dirname, sha: createHash('sha256').update('a').digest('hex').slice(0, 8), late: import('node:os').then((os) => typeof os.cpus) };",
        '}',
        'export async function settled(x) { const r = probe(x); return { ...r, late: await r.late }; }',
      ].join('\n'),
    );
    writeFileSync(join(project, 'twin-tla-dep.mjs'), 'export const base = await Promise.resolve(40);\n');
    writeFileSync(
      join(project, 'twin-tla.mjs'),
      "import { base } from './twin-tla-dep.mjs';\nexport function addBase(x) { return x + base; }\n",
    );
    writeFileSync(
      join(project, 'twin-meta.mjs'),
      "export function resolveIt() { return import.meta.resolve('./twin-plain.mjs'); }\n",
    );
  });
  after(removeTemps);

  test('a plain function gets a twin, strict and with the same pinned paths, that returns what the module returns', async () => {
    const settled = await importFrom<Fn>(join(project, 'twin-plain.mjs'), 'settled');
    const bundle = await packageFunction(settled);
    assert.ok(bundle.commonjs, 'a twin');
    assert.equal(bundle.commonjs.hash, sha256Hex(bundle.commonjs.code));
    assert.match(bundle.commonjs.code, /^"use strict";/);
    const viaModule = (await callBundleInFreshProcess(bundle.code, [3])).results[0];
    const viaTwin = await requireInFreshProcess(bundle.commonjs.code, 3);
    assert.deepEqual(viaTwin, viaModule);
    assert.deepEqual(viaTwin, {
      loud: '3!',
      strict: true,
      url: pathToFileURL(join(project, 'twin-plain.mjs')).href,
      dir: project,
      sha: 'ca978112',
      late: 'function',
    });
  });

  test('top-level await in a module it imports: no twin, and the module still runs', async () => {
    const addBase = await importFrom<Fn>(join(project, 'twin-tla.mjs'), 'addBase');
    const bundle = await packageFunction(addBase);
    assert.equal(bundle.commonjs, undefined);
    assert.deepEqual((await callBundleInFreshProcess(bundle.code, [2])).results, [42]);
  });

  test('an import.meta that cannot be pinned (import.meta.resolve): no twin', async () => {
    const resolveIt = await importFrom<Fn>(join(project, 'twin-meta.mjs'), 'resolveIt');
    const bundle = await packageFunction(resolveIt);
    assert.equal(bundle.commonjs, undefined);
  });

  test('a package left external (it could be ESM only): no twin', async () => {
    const settled = await importFrom<Fn>(join(project, 'twin-plain.mjs'), 'settled');
    const bundle = await packageFunction(settled, { external: ['tiny-pkg'] });
    assert.deepEqual(bundle.externals, ['tiny-pkg']);
    assert.equal(bundle.commonjs, undefined);
  });
});
