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
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/**
 * Modules (src/ paths without extension) that the bare import must not parse: each loads on the path
 * that needs it. The bundle (scripts/build-esm-bundle.mjs) keeps them out of dist/bundle/core.js.
 */
const LAZY_MODULES = [
  'storage/s3/driver',
  'storage/s3/download',
  'storage/s3/multipart',
  'stats/plot',
  'primitives/local-server',
  'primitives/redis-store',
  'partition/planner',
  'executor/attach',
  'packaging/index',
  'packaging/analyze',
  'packaging/bundle',
  'worker/pool',
  'backends/localhost/backend',
];
/** Built-in modules the bare import must not load (each a few ms, used on some paths only). */
const LAZY_BUILTINS = [
  'node:crypto',
  'node:v8',
  'node:child_process',
  'node:worker_threads',
  'node:http',
  'node:https',
  'node:net',
  'node:zlib',
  'node:readline',
];
/** Files of the package the bare import may load: dist/bundle/index.js and core.js. */
const MAX_FILES = 2;
/** Bytes of those files (about 270 KB now): a bound that catches a heavy module creeping back. */
const MAX_BYTES = 320 * 1024;

/** The src/ modules a bundle file was built from, from its source map ("../../src/x/y.ts" → "x/y"). */
async function sourcesOf(file: string): Promise<string[]> {
  if (file.endsWith('/bundle/index.js')) return []; // only re-exports core.js
  const map = JSON.parse(await readFile(`${file}.map`, 'utf8')) as { sources: string[] };
  return map.sources.map((s) => s.replace(/^(\.\.\/)+(src\/)?/, '').replace(/\.[cm]?[jt]s$/, ''));
}

test("import 'burst-compute' parses two files and none of the code of paths not taken", async () => {
  const urls = await loaded(
    "import { FunctionExecutor, s3 } from 'burst-compute';\nif (typeof FunctionExecutor !== 'function' || typeof s3 !== 'function') process.exit(1);\n",
  );
  const dist = join(repo, 'dist');
  const ours = urls
    .filter((u) => u.startsWith('file:'))
    .map((u) => fileURLToPath(u))
    .filter((f) => f.startsWith(`${dist}/`));
  assert.deepEqual(ours.map((f) => f.slice(dist.length + 1)).sort(), ['bundle/core.js', 'bundle/index.js']);
  assert.ok(ours.length <= MAX_FILES);
  let bytes = 0;
  for (const f of ours) bytes += (await stat(f)).size;
  assert.ok(bytes <= MAX_BYTES, `the import parses ${bytes} bytes of Burst (bound ${MAX_BYTES})`);
  const parsed = new Set((await Promise.all(ours.map(sourcesOf))).flat());
  assert.ok(parsed.has('executor/executor') && parsed.has('errors'), 'the source maps name what was loaded');
  assert.deepEqual(
    LAZY_MODULES.filter((m) => parsed.has(m)),
    [],
    'modules that must load on use only',
  );
  // Built-ins from the process's own list: it sees those loaded by require() too, not just by import.
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', "import 'burst-compute'; console.log(JSON.stringify(process.moduleLoadList))"],
    { cwd: dir },
  );
  const builtins = new Set(
    (JSON.parse(stdout) as string[]).filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice(13)}`),
  );
  assert.ok(builtins.has('node:path'), 'the list names built-ins as the test expects');
  assert.deepEqual(
    LAZY_BUILTINS.filter((b) => builtins.has(b)),
    [],
    'built-in modules that must load on use only',
  );
  // Control: every module named above is in the package, in a file that loads when it is needed.
  const bundle = join(dist, 'bundle');
  const all = new Set<string>();
  for (const f of await readdir(bundle))
    if (f.endsWith('.js')) for (const s of await sourcesOf(join(bundle, f))) all.add(s);
  assert.deepEqual(
    LAZY_MODULES.filter((m) => !all.has(m)),
    [],
    'modules the bundle should hold',
  );
});

test('a module loaded on use shares the core modules (errors made there are the exported classes)', async () => {
  // The s3 driver loads on its first request, from a file of its own, and maps the failure to
  // StorageUnavailableError there: were errors.js copied into that file, instanceof would fail.
  const code = `import { s3, StorageUnavailableError, StorageError } from 'burst-compute';
const d = s3({ endpoint: 'http://127.0.0.1:1', accessKeyId: 'k', secretAccessKey: 's', maxAttempts: 1, plainHttpWarning: false });
let err;
try { await d.get('b', 'k'); } catch (e) { err = e; }
if (!(err instanceof StorageUnavailableError) || !(err instanceof StorageError)) process.exit(2);
`;
  const urls = await loaded(code);
  const files = urls.filter((u) => u.includes('/dist/bundle/')).map((u) => fileURLToPath(u));
  const sources = new Set((await Promise.all(files.map(sourcesOf))).flat());
  assert.ok(sources.has('storage/s3/driver') && sources.has('storage/s3/errors'), 'the s3 driver was loaded');
});

test('a localhost thread runs its first call without loading node:crypto; the client loads it without its ES module facade', async () => {
  // The thread checks the bundle file against the code its pool sent (packaging/load.ts) instead of
  // hashing it, and the worker entry loads node:crypto and node:fs/promises on first use only
  // (scripts/lazy-builtins.mjs): node:crypto alone costs a fresh thread ~4 ms before its first call.
  await writeFile(
    join(dir, 'builtins.mjs'),
    "export const builtins = () => process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));\n",
  );
  const main = join(dir, `map-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(
    main,
    `import { FunctionExecutor } from 'burst-compute';
import { builtins } from './builtins.mjs';
const fexec = new FunctionExecutor({ progress: false, workers: 1 });
const [inThread] = await fexec.getResult(await fexec.map(builtins, [0]));
await fexec.close();
const inClient = builtins();
console.log(JSON.stringify({ inThread, inClient }));
`,
  );
  const { stdout } = await run(process.execPath, [main], { cwd: dir });
  const { inThread, inClient } = JSON.parse(stdout) as { inThread: string[]; inClient: string[] };
  assert.ok(inThread.includes('v8') && inThread.includes('worker_threads'), 'the list names what the thread loaded');
  assert.equal(inThread.includes('crypto'), false, 'the thread loaded node:crypto');
  assert.ok(inClient.includes('crypto'), 'the client hashes the bundle (control)');
  assert.equal(
    inClient.includes('internal/crypto/webcrypto'),
    false,
    "the client went through node:crypto's ES module facade",
  );
});
