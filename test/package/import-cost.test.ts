/**
 * `import 'burst-compute'` stays cheap (issue 16): the heavy dependencies (the parser and scope
 * analyser that packaging uses, esbuild, glob matching, the AWS SDKs, zod, vega…) load only on the
 * path that needs them. Each check imports the built package (dist/, `npm run build` first) from a
 * consumer folder in a child process under a module-load trace
 * (test/fixtures/module-trace/register.mjs) and fails when one of them was loaded: that is, when
 * someone adds an eager import.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { linkedConsumer, repo } from '../fixtures/linked-consumer.ts';

const run = promisify(execFile);
const hook = join(repo, 'test/fixtures/module-trace/register.mjs');
/** Packages a bare import must not load (matched as node_modules/<name>/). */
const HEAVY = [
  'acorn',
  'eslint-scope',
  'eslint-visitor-keys',
  'esrecurse',
  'estraverse',
  'esbuild',
  'picomatch',
  'tinyglobby',
  'zod',
  '@aws-sdk',
  '@smithy',
  'vega',
  'vega-lite',
  'yazl',
  'cli-progress',
  'commander',
  'tsx',
  'typescript',
];

let dir: string;

before(async () => {
  dir = await linkedConsumer('import-cost');
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `code` (ESM unless `cjs`) in a consumer process under the trace; returns every loaded file. */
async function loaded(code: string, cjs = false): Promise<string[]> {
  const out = join(dir, `trace-${Math.random().toString(36).slice(2)}.json`);
  const file = join(dir, `main-${Math.random().toString(36).slice(2)}.${cjs ? 'cjs' : 'mjs'}`);
  await writeFile(file, code);
  await run(process.execPath, ['--import', hook, file], { cwd: dir, env: { ...process.env, MODULE_TRACE_FILE: out } });
  const trace = JSON.parse((await readFile(out, 'utf8')).trim()) as { esm: string[]; cjs: string[] };
  return [...trace.esm, ...trace.cjs.map((p) => `file://${p}`)];
}

const heavyIn = (urls: string[]): string[] => [
  ...new Set(urls.flatMap((u) => HEAVY.filter((p) => u.includes(`/node_modules/${p}/`)))),
];

test('the trace sees packages that are loaded (control)', async () => {
  // Loaded the way the package loads them: acorn through the ESM loader, picomatch through require.
  const fromPackage = "createRequire(new URL('./node_modules/burst-compute/package.json', import.meta.url))";
  const urls = await loaded(
    `import 'burst-compute';\nimport { createRequire } from 'node:module';\nconst r = ${fromPackage};\nawait import(r.resolve('acorn'));\nr('picomatch');\n`,
  );
  assert.deepEqual(heavyIn(urls).sort(), ['acorn', 'picomatch']);
  assert.ok(
    urls.some((u) => u.includes('/dist/bundle/index.js')),
    'the package itself (its ESM entry) is in the trace',
  );
});

test("import 'burst-compute' loads none of the heavy packages", async () => {
  const urls = await loaded(
    "import { FunctionExecutor } from 'burst-compute';\nif (typeof FunctionExecutor !== 'function') process.exit(1);\n",
  );
  assert.deepEqual(heavyIn(urls), []);
});

test("require('burst-compute') loads none of the heavy packages", async () => {
  const urls = await loaded(
    "const { FunctionExecutor } = require('burst-compute');\nif (typeof FunctionExecutor !== 'function') process.exit(1);\n",
    true,
  );
  assert.ok(
    urls.some((u) => u.includes('/dist/index.cjs')),
    'the CommonJS build was required',
  );
  assert.deepEqual(heavyIn(urls), []);
});

test('storage options load zod only when there is something to check (issue 20)', async () => {
  const use = (options: string) =>
    `import { createStorage } from 'burst-compute';\nconst d = await createStorage('memory', ${options});\nawait d.createBucket('b');\nawait d.put('b', 'k', 'v');\nif (new TextDecoder().decode(await d.get('b', 'k')) !== 'v') process.exit(1);\n`;
  assert.deepEqual(heavyIn(await loaded(use('{}'))), [], 'a driver with nothing set loads no schema library');
  assert.deepEqual(heavyIn(await loaded(use("{ id: 'x' }"))), ['zod'], 'options are checked by the schema (zod)');
});
