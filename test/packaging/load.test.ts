// The worker side: loadBundle verifies, writes atomically, imports and caches bundles.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntegrityError, PackagingError } from '../../src/errors.js';
import { sha256Hex } from '../../src/packaging/hash.js';
import { bundleCacheDir, loadBundle, loadBundleFile } from '../../src/packaging/load.js';
import { loadInFreshProcess, makeRuntime, removeTemps, resultOf, tempDir } from './harness.js';

/** A bundle-shaped module; `salt` makes its hash unique to this test run. */
function bundleSource(body: string): { hash: string; code: string } {
  const code = `// ${process.pid} ${Math.random()}\nexport default ${body};\n`;
  return { hash: sha256Hex(code), code };
}

describe('loadBundle', () => {
  after(removeTemps);

  test('cache folder: under the runtime node_modules when there is one, else a per-user temp folder', () => {
    const runtime = makeRuntime([]);
    assert.equal(bundleCacheDir(runtime), join(runtime, 'node_modules', '.cache', 'burst', 'functions'));
    const bare = tempDir();
    assert.match(bundleCacheDir(bare), new RegExp(`^${tmpdir()}/burst-functions-`));
    assert.equal(bundleCacheDir(), bundleCacheDir(bare));
  });

  test('loads, writes the file named by its hash, and caches by hash', async () => {
    const runtime = makeRuntime([]);
    const { hash, code } = bundleSource('(x) => x * 3');
    const fn = await loadBundle(hash, Buffer.from(code), { runtimeDir: runtime });
    assert.equal(fn(4), 12);
    const file = join(bundleCacheDir(runtime), `${hash}.mjs`);
    assert.equal(readFileSync(file, 'utf8'), code);
    assert.equal(await loadBundle(hash, code, { runtimeDir: runtime }), fn);
    assert.deepEqual(readdirSync(dirname(file)).filter((f) => f.endsWith('.tmp')), []);
  });

  test('altered code is an IntegrityError naming the hash, and nothing is written', async () => {
    const runtime = makeRuntime([]);
    const { hash, code } = bundleSource('(x) => x');
    await assert.rejects(loadBundle(hash, code.replace('x)', 'y)'), { runtimeDir: runtime }), (error: unknown) => {
      assert.ok(error instanceof IntegrityError);
      assert.equal(error.code, 'INTEGRITY');
      assert.match(error.message, new RegExp(`function bundle ${hash} failed its integrity check`));
      return true;
    });
    assert.equal(existsSync(join(bundleCacheDir(runtime), `${hash}.mjs`)), false);
    await assert.rejects(loadBundle('../../etc/passwd', code), IntegrityError);
    // The failure is not cached: the right code still loads.
    assert.equal((await loadBundle(hash, code, { runtimeDir: runtime }))(5), 5);
  });

  test('a default export that is not a function is a PackagingError', async () => {
    const { hash, code } = bundleSource('{ notA: "function" }');
    await assert.rejects(loadBundle(hash, code, { runtimeDir: makeRuntime([]) }), (error: unknown) => {
      assert.ok(error instanceof PackagingError);
      assert.match(error.message, new RegExp(`${hash} does not export a function as default \\(got object\\)`));
      return true;
    });
  });

  test('a corrupted copy in the cache folder is replaced, not imported', async () => {
    const runtime = makeRuntime([]);
    const { hash, code } = bundleSource('() => "intact"');
    const dir = bundleCacheDir(runtime);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${hash}.mjs`), 'export default () => "corrupted";');
    assert.equal((await loadBundle(hash, code, { runtimeDir: runtime }))(), 'intact');
    assert.equal(readFileSync(join(dir, `${hash}.mjs`), 'utf8'), code);
  });

  test('several processes loading the same bundle at once all succeed', async () => {
    const runtime = makeRuntime([]);
    // A large bundle makes a torn write visible if writes were not atomic.
    const padding = `/*${'x'.repeat(2_000_000)}*/`;
    const { hash, code } = bundleSource(`${padding} (x) => x + 1`);
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => loadInFreshProcess(hash, code, i, runtime)));
    assert.deepEqual(runs.map(resultOf), [1, 2, 3, 4, 5, 6]);
    const dir = bundleCacheDir(runtime);
    assert.deepEqual(readdirSync(dir), [`${hash}.mjs`]);
    assert.equal(readFileSync(join(dir, `${hash}.mjs`), 'utf8'), code);
  });

  test('loadBundleFile imports an already-written file', async () => {
    const dir = tempDir();
    const good = join(dir, 'good.mjs');
    writeFileSync(good, 'export default (a, b) => a - b;');
    const fn = await loadBundleFile(good);
    assert.equal(fn(5, 3), 2);
    assert.equal(await loadBundleFile(good), fn);
    const bad = join(dir, 'bad.mjs');
    writeFileSync(bad, 'export default 42;');
    await assert.rejects(loadBundleFile(bad), /does not export a function as default \(got number\)/);
  });

  test('the worker side imports no client-only module', () => {
    // self-resolve.ts loads the public API only for bundles that import it, by a computed URL.
    const allowed = /^(node:[\w/]+|\.\.\/errors\.js|\.\/hash\.js|\.\.\/worker\/self-resolve\.js)$/;
    const here = fileURLToPath(new URL('../../src/packaging/', import.meta.url));
    for (const file of ['load.ts', 'hash.ts', '../errors.ts', '../worker/self-resolve.ts']) {
      const source = readFileSync(join(here, file), 'utf8');
      const statements = /^\s*(?:import|export)\b[^;]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/gm;
      const specifiers = [...source.matchAll(statements)].map((m) => m[1] ?? m[2] ?? m[3]!);
      assert.ok(specifiers.length > 0 || file !== 'load.ts');
      for (const specifier of specifiers) assert.match(specifier, allowed, `${file} imports ${specifier}`);
    }
  });
});
