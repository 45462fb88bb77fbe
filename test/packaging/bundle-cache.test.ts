/**
 * Bundles cached across runs (issue 16): a second run of the same unchanged script reuses the first
 * run's bundle without starting esbuild (or the parser), and editing a file the function imports,
 * even indirectly, builds a new bundle. Runs the built package (dist/, `npm run build` first) from a
 * consumer folder as separate processes, under the module-load trace of
 * test/fixtures/module-trace/register.mjs: "esbuild started" means its module was loaded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { linkedConsumer, repo } from '../fixtures/linked-consumer.ts';

const exec = promisify(execFile);
const hook = join(repo, 'test/fixtures/module-trace/register.mjs');
let dir: string;

before(async () => {
  dir = await linkedConsumer('bundle-cache');
  await writeFile(join(dir, 'deep.mjs'), 'export const offset = 100;\n');
  await writeFile(
    join(dir, 'helper.mjs'),
    "import { offset } from './deep.mjs';\nexport const shift = (x) => x + offset;\n",
  );
  await writeFile(
    join(dir, 'main.mjs'),
    [
      "import { FunctionExecutor } from 'burst-compute';",
      "import { shift } from './helper.mjs';",
      'const fexec = new FunctionExecutor({ progress: false, workers: 1 });',
      '// An inline function of the main script (virtual entry) and an exported one (re-export entry).',
      'const results = await fexec.getResult(await fexec.map((x) => shift(x) * 2, [1, 2, 3]));',
      'results.push(...(await fexec.getResult(await fexec.map(shift, [1, 2]))));',
      'await fexec.close();',
      'console.log(JSON.stringify(results));',
      '',
    ].join('\n'),
  );
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs main.mjs; returns its results and whether esbuild / acorn were loaded in the client. */
async function runMain(): Promise<{ results: number[]; esbuild: boolean; acorn: boolean }> {
  const trace = join(dir, 'trace.json');
  await rm(trace, { force: true });
  const r = await exec(process.execPath, ['--import', hook, 'main.mjs'], {
    cwd: dir,
    env: { ...process.env, MODULE_TRACE_FILE: trace, BURST_BUNDLE_CACHE: '1' },
  });
  const t = JSON.parse((await readFile(trace, 'utf8')).trim()) as { esm: string[]; cjs: string[] };
  const urls = [...t.esm, ...t.cjs];
  return {
    results: JSON.parse(r.stdout) as number[],
    esbuild: urls.some((u) => u.includes('/node_modules/esbuild/')),
    acorn: urls.some((u) => u.includes('/node_modules/acorn/')),
  };
}

test('a second run of an unchanged script reuses the bundle; an edited import invalidates it', async () => {
  const first = await runMain();
  assert.deepEqual(first.results, [202, 204, 206, 101, 102]);
  assert.equal(first.esbuild, true, 'the first run bundles with esbuild');

  const second = await runMain();
  assert.deepEqual(second.results, [202, 204, 206, 101, 102]);
  assert.equal(second.esbuild, false, 'the second run does not start esbuild');
  assert.equal(second.acorn, false, 'the second run does not parse the script');

  // An edit two imports away from the function (main → helper → deep).
  await writeFile(join(dir, 'deep.mjs'), 'export const offset = 1000;\n');
  const edited = await runMain();
  assert.equal(edited.esbuild, true, 'the edit makes the next run bundle again');
  assert.deepEqual(edited.results, [2002, 2004, 2006, 1001, 1002], 'the workers ran the edited code');

  const again = await runMain();
  assert.equal(again.esbuild, false);
  assert.deepEqual(again.results, [2002, 2004, 2006, 1001, 1002]);
});
