// Functions of the main script itself: a real main script packages its own functions, and importing
// those bundles elsewhere must not run the script's top-level code again (no side effects, no
// recursion into map()).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionBundle } from '../../src/packaging/index.js';
import {
  callBundleInFreshProcess,
  makeProject,
  PACKAGING_MODULE,
  removeTemps,
  runNode,
  TSX_LOADER,
} from './harness.js';

const SIDE_EFFECT = 'MAIN SIDE EFFECT';

async function runMainScript(project: string, script: string): Promise<Record<string, FunctionBundle>> {
  const out = join(project, `${script.replace(/\//g, '-')}.bundles.json`);
  const run = await runNode(['--import', TSX_LOADER, script], {
    cwd: project,
    env: { BURST_PACKAGING_MODULE: PACKAGING_MODULE, BURST_OUT: out },
  });
  assert.equal(run.code, 0, run.stderr);
  // The script itself runs its top level exactly once.
  assert.equal(run.stdout.split(SIDE_EFFECT).length - 1, 1, run.stdout);
  assert.match(run.stdout, /MAIN DONE/);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, FunctionBundle>;
}

async function callWithoutSideEffects(bundle: FunctionBundle, inputs: unknown[]): Promise<unknown[]> {
  assert.doesNotMatch(
    bundle.code,
    new RegExp(SIDE_EFFECT),
    `${bundle.description} carries the script's top-level code`,
  );
  const { results, run } = await callBundleInFreshProcess(bundle.code, inputs);
  assert.doesNotMatch(run.stdout, new RegExp(SIDE_EFFECT));
  return results;
}

describe('packaging functions of the main script', () => {
  let project: string;
  before(() => {
    project = makeProject();
  });
  after(removeTemps);

  test('an ESM TypeScript main script (node --import tsx main.ts)', async () => {
    const bundles = await runMainScript(project, 'main.ts');
    // Not exported; mutates a module-level `let`, which is shipped with its initial value.
    assert.match(bundles.double!.description, /^double \(.*main\.ts:\d+:\d+\)$/);
    assert.deepEqual(await callWithoutSideEffects(bundles.double!, [1, 1, 5]), [2, 3, 12]);
    // Exported from the main script: still a virtual entry, never a re-export of main.ts.
    assert.deepEqual(await callWithoutSideEffects(bundles.triple!, [4]), [12]);
    // Needs a constant, a local import and an npm package import of the script.
    assert.deepEqual(await callWithoutSideEffects(bundles.describe!, [1]), ['hi 2!']);
    assert.deepEqual(await callWithoutSideEffects(bundles.inline!, [21]), [42]);
    assert.deepEqual(await callWithoutSideEffects(bundles.inlineUsingModule!, [2]), ['hi 3!?']);
  });

  test('a CommonJS main script (main.cjs)', async () => {
    const bundles = await runMainScript(project, 'main.cjs');
    assert.match(bundles.padded!.description, /^padded \(.*main\.cjs:\d+:\d+\)$/);
    assert.deepEqual(await callWithoutSideEffects(bundles.padded!, [7]), ['0007']);
    assert.deepEqual(await callWithoutSideEffects(bundles.inline!, [7]), ['0008']);
  });

  test('a TypeScript main script that tsx compiles to CommonJS', async () => {
    const bundles = await runMainScript(project, 'commonjs-ts/main.ts');
    assert.match(bundles.scaled!.description, /^scaled \(.*commonjs-ts\/main\.ts:\d+:\d+\)$/);
    assert.deepEqual(await callWithoutSideEffects(bundles.scaled!, [1]), [6]);
    assert.deepEqual(await callWithoutSideEffects(bundles.inline!, [1]), [7]);
    assert.deepEqual(await callWithoutSideEffects(bundles.addSeven!, [1]), [8]);
  });

  test('the same source packaged by two processes gives the same content hash', async () => {
    const first = await runMainScript(project, 'main.ts');
    const second = await runMainScript(project, 'main.ts');
    for (const name of Object.keys(first)) assert.equal(first[name]!.hash, second[name]!.hash, name);
  });
});
