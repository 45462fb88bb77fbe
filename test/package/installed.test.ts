/**
 * The package tier: Burst as a user gets it. `npm pack` once, install the tarball into fresh projects
 * (a default `npm init -y` one, which is CommonJS, and a `"type": "module"` one, installed
 * concurrently), then run programs in them as separate processes: the README quick start taken from
 * README.md itself, CommonJS `require`, TypeScript through tsx and compiled with tsc, a helper module
 * that imports Burst, a nested executor, a script without `close()`, names inside a bundled task,
 * the `burst` command and an example. Nothing here imports Burst's sources.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  cachedBundles,
  consumer,
  pack,
  readmeBlocks,
  removeRoot,
  repo,
  runOk,
  survivors,
  tempRoot,
  type Consumer,
} from './consumer.ts';

let root: string;
let cjs: Consumer; // npm init -y: "type": "commonjs"
let esm: Consumer; // "type": "module"
let version: string;

before(async () => {
  root = await tempRoot();
  const tarball = await pack(root);
  [cjs, esm] = await Promise.all([
    consumer(root, 'default-project', tarball),
    consumer(root, 'module-project', tarball, 'module'),
  ]);
  version = (
    JSON.parse(await readFile(join(cjs.dir, 'node_modules', 'burst-compute', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
});

after(async () => {
  if (root) await removeRoot(root);
});

/** The README quick start's files and command, written into `c`; returns the command's argv. */
async function writeQuickStart(c: Consumer): Promise<string[]> {
  const blocks = await readmeBlocks('Quick start');
  const files = blocks.filter((b) => b.lang === 'ts' && b.name);
  assert.ok(files.length >= 2, 'the quick start shows its files, each headed by its name');
  await c.write(Object.fromEntries(files.map((b) => [b.name as string, b.code])));
  const command = blocks.find((b) => b.lang === 'sh')?.code.trim();
  assert.ok(command?.startsWith('npx '), `the quick start says how to run it, got ${command}`);
  return (command as string).slice('npx '.length).split(/\s+/);
}

describe('the README quick start, as printed', () => {
  for (const kind of ['default (CommonJS) project', '"type": "module" project']) {
    test(`in a ${kind}`, async () => {
      const c = kind.startsWith('default') ? cjs : esm;
      const argv = await writeQuickStart(c);
      const r = await c.npx(argv);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '[ 8, 9, 10, 11 ]\n');
    });
  }

  test('its CommonJS variant, with require()', async () => {
    const block = (await readmeBlocks('Quick start')).find((b) => b.lang === 'js' && b.name === 'main.cjs');
    assert.ok(block, 'the quick start shows main.cjs');
    await cjs.write({
      'main.cjs': block.code,
      'triple.cjs':
        "const { isBurstError } = require('burst-compute');\nexports.triple = (x) => (typeof isBurstError === 'function' ? x * 3 : -1);\n",
    });
    const r = await cjs.node(['main.cjs']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[ 3, 6, 9 ]\n');
  });
});

/** A helper module that value-imports Burst at its top and dynamically inside a task. */
const helper = `import { FunctionExecutor, Storage, ConfigError, isBurstError } from 'burst-compute';

export function square(x: number): { square: number; api: boolean } {
  const api = typeof FunctionExecutor === 'function' && typeof Storage === 'function' && isBurstError(new ConfigError('probe'));
  return { square: x * x, api };
}

export async function viaImport(x: number): Promise<string> {
  const burst = await import('burst-compute');
  return typeof burst.FunctionExecutor + ':' + x;
}
`;
const helperMain = `import { FunctionExecutor } from 'burst-compute';
import { square, viaImport } from './lib.js';

const out: Record<string, unknown> = {};
for (const channel of ['ipc', 'storage'] as const) {
  const fexec = new FunctionExecutor({ localhost: { channel } });
  out[channel] = [await fexec.getResult(await fexec.map(square, [2, 3])), await fexec.getResult(await fexec.map(viaImport, [1]))];
  await fexec.close();
}
console.log(JSON.stringify(out));
`;

describe('a module that imports burst-compute ships, on the IPC and the storage channel', () => {
  for (const kind of ['default (CommonJS) project', '"type": "module" project']) {
    test(`in a ${kind}`, async () => {
      const c = kind.startsWith('default') ? cjs : esm;
      await c.write({ 'lib.ts': helper, 'helper-main.mts': helperMain });
      const r = await c.npx(['tsx', 'helper-main.mts']);
      assert.equal(r.code, 0, r.stderr);
      const expected = [
        [
          { square: 4, api: true },
          { square: 9, api: true },
        ],
        ['function:1'],
      ];
      assert.deepEqual(JSON.parse(r.stdout), { ipc: expected, storage: expected });
      const bundles = await cachedBundles(c.dir);
      assert.ok(bundles.length > 0, 'the workers cached the bundles in the project');
      for (const code of bundles) {
        assert.ok(!code.includes('class FunctionExecutor'), 'Burst itself is not bundled into the user function');
        assert.ok(!code.includes('tsx/esm/api'), 'nor is tsx');
      }
    });
  }
});

test('a nested executor runs its own map in a task, one inner worker per outer call (IPC and storage channel)', async () => {
  await esm.write({
    'nested.mts': `import { FunctionExecutor } from 'burst-compute';
import { threadId } from 'node:worker_threads';

export function inner(x: number): { y: number; pid: number; thread: number } {
  return { y: x * 10, pid: process.pid, thread: threadId };
}

export async function outer(n: number): Promise<{ pid: number; inner: ReturnType<typeof inner>[] }> {
  const fexec = new FunctionExecutor();
  try {
    return { pid: process.pid, inner: await fexec.getResult(await fexec.map(inner, [n, n + 1, n + 2, n + 3])) };
  } finally {
    await fexec.close();
  }
}

const out: Record<string, unknown> = {};
for (const channel of ['ipc', 'storage'] as const) {
  const fexec = new FunctionExecutor({ localhost: { channel } });
  out[channel] = await fexec.getResult(await fexec.map(outer, [1, 5]));
  await fexec.close();
}
console.log(JSON.stringify(out));
`,
  });
  const r = await esm.npx(['tsx', 'nested.mts']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<
    string,
    Array<{ pid: number; inner: Array<{ y: number; pid: number; thread: number }> }>
  >;
  for (const channel of ['ipc', 'storage']) {
    const results = out[channel] ?? [];
    assert.deepEqual(
      results.map((o) => o.inner.map((i) => i.y)),
      [
        [10, 20, 30, 40],
        [50, 60, 70, 80],
      ],
      channel,
    );
    for (const o of results) {
      // Inner workers are threads (the default) of the process running the outer task.
      assert.deepEqual(
        new Set(o.inner.map((i) => i.pid)),
        new Set([o.pid]),
        `${channel}: inner workers run in the outer task's process`,
      );
      assert.equal(
        new Set(o.inner.map((i) => i.thread)).size,
        1,
        `${channel}: an executor inside a task starts one worker`,
      );
      assert.ok(
        o.inner.every((i) => i.thread > 0),
        `${channel}: the inner calls ran in a worker thread, not in the outer task's own thread`,
      );
    }
  }
});

test('a script that never calls close() exits by itself and leaves no worker process', async () => {
  await cjs.write({
    'no-close.mts': `import { FunctionExecutor } from 'burst-compute';
const fexec = new FunctionExecutor({ workers: 2 });
const pids = await fexec.getResult(await fexec.map((x: number) => { const t = Date.now(); while (Date.now() - t < 50); return process.pid + 0 * x; }, [1, 2, 3, 4]));
console.log(JSON.stringify([...new Set(pids)]));
`,
  });
  const r = await cjs.npx(['tsx', 'no-close.mts']); // run() fails the test if the script does not end
  assert.equal(r.code, 0, r.stderr);
  const pids = JSON.parse(r.stdout) as number[];
  assert.ok(pids.length >= 1 && pids.every((p) => p !== process.pid));
  assert.deepEqual(await survivors(pids), [], 'the worker processes exit with the script');
});

test('a process pool that fills the cores starts its workers with serial scavenges; a smaller one does not', async () => {
  await cjs.write({
    'scavenges.mts': `import { availableParallelism } from 'node:os';
import { FunctionExecutor } from 'burst-compute';
async function workerArgv(workers: number): Promise<string[]> {
  const fexec = new FunctionExecutor({ workers, progress: false, localhost: { isolation: 'process' } });
  try {
    const [argv] = await fexec.getResult(await fexec.map((_: number) => process.execArgv, [0]));
    return argv as string[];
  } finally {
    await fexec.close();
  }
}
const cores = availableParallelism();
console.log(JSON.stringify({ full: await workerArgv(cores), fewer: cores > 1 ? await workerArgv(1) : null }));
`,
  });
  const r = await cjs.npx(['tsx', 'scavenges.mts']);
  assert.equal(r.code, 0, r.stderr);
  const { full, fewer } = JSON.parse(r.stdout) as { full: string[]; fewer: string[] | null };
  assert.ok(full.includes('--no-parallel-scavenge'), `a full pool's worker: ${JSON.stringify(full)}`);
  if (fewer) assert.ok(!fewer.includes('--no-parallel-scavenge'), `a smaller pool's worker: ${JSON.stringify(fewer)}`);
});

test('names inside a task are those of the source, where bundling renamed a symbol and where it removed a wrapper', async () => {
  await esm.write({
    'names/other.mjs': 'export function helper() { return "other"; }\n',
    'names/kernel.mjs': `import { helper as otherHelper } from './other.mjs';
function helper() { return 'main'; }
export function names(seed) {
  let a = seed;
  const rand = () => (a = (a * 31 + 7) % 1000) / 1000;
  const ops = { twice: (x) => 2 * x };
  return [rand.name, ops.twice.name, helper.name, otherHelper.name, helper(), otherHelper(), ops.twice(rand()) >= 0];
}
`,
    'names/main.mjs': `import { FunctionExecutor } from 'burst-compute';
import { names } from './kernel.mjs';
const fexec = new FunctionExecutor({ progress: false, workers: 1 });
console.log(JSON.stringify(await fexec.getResult(await fexec.map(names, [3]))));
await fexec.close();
`,
  });
  const r = await esm.node(['names/main.mjs']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [['rand', 'twice', 'helper', 'helper', 'main', 'other', true]]);
});

test("a worker thread loads a plain function's CommonJS twin without Node's ES module loader; ESM-only code still runs", async () => {
  await esm.write({
    'twin/kernel.mjs': `const loader = () => process.moduleLoadList.includes('NativeModule internal/modules/esm/translators');
export function plain(x) { return { x: x + 1, esmLoader: loader() }; }
`,
    'twin/tla-dep.mjs': 'export const base = await Promise.resolve(40);\n',
    'twin/tla.mjs': `import { base } from './tla-dep.mjs';
export function withBase(x) { return { x: x + base, esmLoader: process.moduleLoadList.includes('NativeModule internal/modules/esm/translators') }; }
`,
    'twin/main.mjs': `import { FunctionExecutor } from 'burst-compute';
import { plain } from './kernel.mjs';
import { withBase } from './tla.mjs';
const fexec = new FunctionExecutor({ progress: false, workers: 1 });
const a = await fexec.getResult(await fexec.map(plain, [1]));
await fexec.close();
const fexec2 = new FunctionExecutor({ progress: false, workers: 1 });
const b = await fexec2.getResult(await fexec2.map(withBase, [2]));
await fexec2.close();
console.log(JSON.stringify([a[0], b[0]]));
`,
  });
  const r = await esm.node(['twin/main.mjs']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    { x: 2, esmLoader: false },
    { x: 42, esmLoader: true },
  ]);
});

describe('TypeScript compiled with tsc', () => {
  const tsc = createRequire(join(repo, 'package.json')).resolve('typescript/bin/tsc');

  test('to CommonJS in a default project (types through the require condition)', async () => {
    await cjs.write({
      'tsc-cjs/tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'node16', target: 'es2022', strict: true, skipLibCheck: true, outDir: 'out' },
        include: ['*.ts'],
      }),
      'tsc-cjs/main.ts': `import { FunctionExecutor, type FutureList } from 'burst-compute';
import { cube } from './cube';
async function main(): Promise<void> {
  const fexec = new FunctionExecutor();
  const futures: FutureList<number> = await fexec.map(cube, [1, 2, 3]);
  const results: number[] = await fexec.getResult(futures);
  const made = Object.keys(futures).length; // the list makes its futures when first read
  const third = futures[2];
  const ids = [...futures].map((f) => f.callId);
  console.log(JSON.stringify([results, made, third?.status, third === futures[2], ids, Array.isArray(futures)]));
  await fexec.close();
}
void main();
`,
      'tsc-cjs/cube.ts': 'export function cube(x: number): number { return x ** 3; }\n',
    });
    await runOk(process.execPath, [tsc, '-p', 'tsc-cjs'], { cwd: cjs.dir });
    const r = await cjs.node(['tsc-cjs/out/main.js']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[[1,8,27],0,"success",true,[0,1,2],true]\n');
  });

  test('to ES modules in a "type": "module" project', async () => {
    await esm.write({
      'tsc-esm/tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, outDir: 'out' },
        include: ['*.ts'],
      }),
      'tsc-esm/main.ts': `import { FunctionExecutor } from 'burst-compute';
import { cube } from './cube.js';
const fexec = new FunctionExecutor();
const results: number[] = await fexec.getResult(await fexec.map(cube, [1, 2, 3]));
console.log(JSON.stringify(results));
await fexec.close();
`,
      'tsc-esm/cube.ts': 'export function cube(x: number): number { return x ** 3; }\n',
    });
    await runOk(process.execPath, [tsc, '-p', 'tsc-esm'], { cwd: esm.dir });
    const r = await esm.node(['tsc-esm/out/main.js']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[1,8,27]\n');
  });

  test('error codes are typed from the package: instanceof narrows code, a misspelt code does not compile', async () => {
    const codes = `import { BurstError, ERROR_CODE_CLASS, NoSuchKeyError, StorageError, isBurstErrorCode, type BurstErrorCode, type StorageErrorCode } from 'burst-compute';
function kind(code: StorageErrorCode): string {
  switch (code) {
    case 'NO_SUCH_KEY':
    case 'NO_SUCH_BUCKET':
      return 'missing';
    default:
      return 'other';
  }
}
export function describe(err: unknown): string {
  if (err instanceof StorageError) return kind(err.code);
  if (err instanceof BurstError) {
    const code: BurstErrorCode = err.code;
    return code;
  }
  return 'not burst';
}
const e = new NoSuchKeyError('b', 'k');
const narrowed: 'NO_SUCH_KEY' = e.code;
console.log(describe(e), narrowed, ERROR_CODE_CLASS[narrowed], isBurstErrorCode('CONFIG'), isBurstErrorCode('ENOENT'));
`;
    await esm.write({
      'tsc-codes/tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, outDir: 'out' },
        include: ['*.ts'],
      }),
      'tsc-codes/main.ts': codes,
    });
    await runOk(process.execPath, [tsc, '-p', 'tsc-codes'], { cwd: esm.dir });
    const r = await esm.node(['tsc-codes/out/main.js']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'missing NO_SUCH_KEY NoSuchKeyError true false\n');
    // The same program with a misspelt code must not compile against the package's types.
    await esm.write({ 'tsc-codes/main.ts': codes.replace("case 'NO_SUCH_BUCKET':", "case 'NO_SUCH_BUKET':") });
    await assert.rejects(runOk(process.execPath, [tsc, '-p', 'tsc-codes'], { cwd: esm.dir }), /NO_SUCH_BUKET/);
  });
});

describe('stack traces name files that exist', () => {
  test("a remote error's stack points at the user's file, not the bundle cache", async () => {
    await esm.write({
      'boom.ts':
        'export function boom(x: number): number {\n  if (x > 1) throw new Error(`boom ${x}`);\n  return x;\n}\n',
      'boom-main.mts': `import { FunctionExecutor } from 'burst-compute';
import { boom } from './boom.js';
function local(x: number): number {
  if (x > 1) throw new Error('local ' + x);
  return x;
}
const fexec = new FunctionExecutor();
for (const fn of [boom, local]) {
  try {
    await fexec.getResult(await fexec.map(fn, [1, 2]));
  } catch (err) {
    console.log((err as Error).stack);
  }
}
await fexec.close();
`,
    });
    const r = await esm.npx(['tsx', 'boom-main.mts']);
    assert.equal(r.code, 0, r.stderr);
    const at = (file: string, line: number): RegExp =>
      new RegExp(`\\(${join(esm.dir, file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${line}:\\d+\\)`);
    assert.match(r.stdout, at('boom.ts', 2), 'a function exported by a module');
    assert.match(
      r.stdout,
      at('boom-main.mts', 4),
      "a function of the main script (tsx's one-line output, mapped back)",
    );
    assert.doesNotMatch(r.stdout, /\.cache[\\/]burst/);
  });

  test("Burst's own frames (with source maps) name files the package ships", async () => {
    await cjs.write({
      'captured.mjs': `import { FunctionExecutor } from 'burst-compute';
const fexec = new FunctionExecutor();
function times(k) {
  return (x) => x * k; // captures k: cannot be shipped
}
try {
  await fexec.map(times(3), [1]);
} catch (err) {
  console.log(err.stack);
}
await fexec.close();
`,
    });
    const r = await cjs.node(['--enable-source-maps', 'captured.mjs']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /PackagingError/);
    const files = [...r.stdout.matchAll(/\((?:file:\/\/)?(\/[^():]+):\d+:\d+\)/g)]
      .map((m) => m[1] as string)
      .filter((f) => f.includes('burst-compute'));
    assert.ok(files.length > 0, `Burst frames in:\n${r.stdout}`);
    for (const f of files)
      assert.ok(
        await readFile(f).then(
          () => true,
          () => false,
        ),
        `${f} is in the installed package`,
      );
  });
});

describe('the burst command from a consumer', () => {
  test('npx burst --version prints the package version', async () => {
    const r = await cjs.npx(['burst', '--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  });

  test('npx burst hello runs a map', async () => {
    const r = await cjs.npx(['burst', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Results: \[ 1, 4, 9, 16 \]/);
  });

  test('npx burst test passes every check', async () => {
    const r = await cjs.npx(['burst', 'test']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /All \d+ checks passed/);
  });
});

test('an example (monte-carlo) runs from a consumer project', async () => {
  await cp(join(repo, 'examples', 'monte-carlo'), join(esm.dir, 'examples', 'monte-carlo'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('monte-carlo', 'out')}`),
  });
  await cp(join(repo, 'examples', 'shared'), join(esm.dir, 'examples', 'shared'), { recursive: true });
  const svg = join(esm.dir, 'histogram.svg');
  const r = await esm.npx([
    'tsx',
    'examples/monte-carlo/main.ts',
    '--forecasts',
    '400',
    '--calls',
    '4',
    '--days',
    '20',
    '--svg',
    svg,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /400 forecasts/);
  assert.match(await readFile(svg, 'utf8'), /<svg/);
});
