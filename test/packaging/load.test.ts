// The worker side: loadBundle verifies, writes atomically, imports and caches bundles.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntegrityError, PackagingError } from '../../src/errors.js';
import { sha256Hex } from '../../src/packaging/hash.js';
import { bundleCacheDir, loadBundle, loadBundleFile, writeBundle } from '../../src/packaging/load.js';
import { memory } from '../../src/storage/memory/driver.js';
import { materializeBundle } from '../../src/worker/bundle-file.js';
import { loadInFreshProcess, makeRuntime, removeTemps, resultOf, tempDir } from './harness.js';

/** A bundle-shaped module; `salt` makes its hash unique to this test run. */
function bundleSource(body: string): { hash: string; code: string } {
  const code = `// ${process.pid} ${Math.random()}\nexport default ${body};\n`;
  return { hash: sha256Hex(code), code };
}

/** A bundle an attacker plants: running it leaves `marker` behind. */
function evil(marker: string): string {
  return `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'pwned');\nexport default () => 'pwned';\n`;
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
    assert.deepEqual(
      readdirSync(dirname(file)).filter((f) => f.endsWith('.tmp')),
      [],
    );
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

  test('loadBundleFile imports an already-written file named by its hash, in a private folder', async () => {
    const dir = tempDir();
    const { hash, code } = bundleSource('(a, b) => a - b');
    const good = join(dir, `${hash}.mjs`);
    writeFileSync(good, code);
    const fn = await loadBundleFile(good);
    assert.equal(fn(5, 3), 2);
    assert.equal(await loadBundleFile(good), fn);
    const notFn = bundleSource('42');
    writeFileSync(join(dir, `${notFn.hash}.mjs`), notFn.code);
    await assert.rejects(
      loadBundleFile(join(dir, `${notFn.hash}.mjs`)),
      /does not export a function as default \(got number\)/,
    );
    writeFileSync(join(dir, 'good.mjs'), code);
    await assert.rejects(
      loadBundleFile(join(dir, 'good.mjs')),
      IntegrityError,
      'a file not named by a hash is refused',
    );
  });

  test('issue 14 finding 2: a bundle altered in the cache is refused by loadBundleFile and replaced by materializeBundle, never run', async () => {
    const runtime = makeRuntime([]);
    const marker = join(tempDir(), 'pwned');
    const { hash, code } = bundleSource('() => "intact"');
    const storage = memory();
    await storage.createBucket('b');
    await storage.put('b', `burst/functions/${hash}.mjs`, code);
    const path = await materializeBundle(storage, 'b', hash, runtime);
    writeFileSync(path, evil(marker));
    await assert.rejects(
      loadBundleFile(path),
      (e: unknown) => e instanceof IntegrityError && /altered after it was written/.test(e.message),
    );
    assert.equal(existsSync(marker), false, 'the altered file was not imported');
    assert.equal(await materializeBundle(storage, 'b', hash, runtime), path);
    assert.equal(readFileSync(path, 'utf8'), code, 'the altered copy was replaced from storage');
    assert.equal((await loadBundleFile(path))(), 'intact');
    assert.equal(existsSync(marker), false);
  });

  test('loadBundleFile with the code the pool sent: imports the file only when it holds exactly that code', async () => {
    const dir = tempDir();
    const marker = join(tempDir(), 'pwned');
    const { hash, code } = bundleSource('() => "intact"');
    const path = join(dir, `${hash}.mjs`);
    // Altered after it was written: refused without a hash, as with one.
    writeFileSync(path, evil(marker));
    await assert.rejects(
      loadBundleFile(path, code),
      (e: unknown) =>
        e instanceof IntegrityError && /altered after it was written.*not the code the pool sent/.test(e.message),
    );
    // A file that hashes to its name is still refused when it is not the code sent.
    const other = bundleSource('() => "other"');
    const otherPath = join(dir, `${other.hash}.mjs`);
    writeFileSync(otherPath, other.code);
    await assert.rejects(loadBundleFile(otherPath, code), IntegrityError);
    assert.equal(existsSync(marker), false, 'no refused file was imported');
    // The folder is checked first, code or not.
    chmodSync(dir, 0o755);
    const fresh = bundleSource('() => "fresh"');
    writeFileSync(join(dir, `${fresh.hash}.mjs`), fresh.code);
    await assert.rejects(loadBundleFile(join(dir, `${fresh.hash}.mjs`), fresh.code), /its folder has mode 0755/);
    chmodSync(dir, 0o700);
    assert.equal((await loadBundleFile(join(dir, `${fresh.hash}.mjs`), fresh.code))(), 'fresh');
  });

  test('issue 14 finding 6: a functionHash that is not a hex digest is never used as a path', async () => {
    const runtime = makeRuntime([]);
    const marker = join(tempDir(), 'pwned');
    const planted = join(tempDir(), 'not-a-bundle');
    writeFileSync(`${planted}.mjs`, evil(marker));
    const storage = memory();
    await storage.createBucket('b');
    const climb = relative(bundleCacheDir(runtime), planted);
    for (const hash of [climb, `${'A'.repeat(64)}`, `${'a'.repeat(63)}`, `${'a'.repeat(64)}/../x`, '']) {
      await assert.rejects(
        materializeBundle(storage, 'b', hash, runtime),
        (e: unknown) => e instanceof IntegrityError && /functionHash .* is not a sha256 hex digest/.test(e.message),
        hash,
      );
      await assert.rejects(loadBundleFile(join(bundleCacheDir(runtime), `${hash}.mjs`)), IntegrityError);
    }
    assert.equal(existsSync(marker), false);
  });

  test('issue 14 finding 2: a cache folder another user owns (world-writable, with a planted bundle) is never used', {
    skip: process.getuid?.() !== 0 && 'needs root to make a folder owned by another user',
  }, async () => {
    const savedTmp = process.env.TMPDIR;
    const tmp = tempDir('burst-tmpdir-');
    const marker = join(tempDir(), 'pwned');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    process.env.TMPDIR = tmp;
    try {
      const bare = tempDir(); // no node_modules: the per-user temp folder is the intended cache
      const intended = bundleCacheDir(bare);
      assert.equal(dirname(intended), tmp);
      const { hash, code } = bundleSource('() => "intact"');
      // The attacker creates the folder first, owned by nobody and writable by all, and plants the bundle.
      mkdirSync(intended, { mode: 0o777 });
      chmodSync(intended, 0o777);
      writeFileSync(join(intended, `${hash}.mjs`), evil(marker));
      chownSync(intended, 65534, 65534);
      chownSync(join(intended, `${hash}.mjs`), 65534, 65534);
      const storage = memory();
      await storage.createBucket('b');
      await storage.put('b', `burst/functions/${hash}.mjs`, code);
      const path = await materializeBundle(storage, 'b', hash, bare);
      assert.notEqual(dirname(path), intended, 'the foreign folder is not used');
      assert.equal((statSync(dirname(path)).mode & 0o777).toString(8), '700');
      assert.equal((await loadBundleFile(path))(), 'intact');
      assert.equal(existsSync(marker), false, 'the planted bundle never ran');
      // A loader handed a file inside the foreign folder refuses it, even when its content is intact.
      writeFileSync(join(intended, `${hash}.mjs`), code);
      await assert.rejects(
        loadBundleFile(join(intended, `${hash}.mjs`)),
        (e: unknown) => e instanceof IntegrityError && /owned by uid 65534 \(mode 0777\)/.test(e.message),
      );
      await new Promise((r) => setImmediate(r));
      assert.ok(
        warnings.some((w) => /owned by uid 65534 \(mode 0777\)/.test(w.message) && w.message.includes(intended)),
        'a warning names the folder, its owner and mode',
      );
    } finally {
      process.off('warning', onWarning);
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
  });

  test('a cache folder removed under a running process is made again, private', async () => {
    const runtime = makeRuntime([]);
    const first = bundleSource('() => 1');
    const path = await writeBundle(first.hash, first.code, { runtimeDir: runtime });
    rmSync(dirname(path), { recursive: true });
    const second = bundleSource('() => 2');
    const again = await writeBundle(second.hash, second.code, { runtimeDir: runtime });
    assert.equal(dirname(again), dirname(path));
    assert.equal((statSync(dirname(again)).mode & 0o777).toString(8), '700');
  });

  test('issue 14 finding 2: our own cache folder left group/world-writable is tightened to 0700', async () => {
    const runtime = makeRuntime([]);
    const intended = bundleCacheDir(runtime);
    mkdirSync(intended, { recursive: true });
    chmodSync(intended, 0o777);
    const { hash, code } = bundleSource('() => 1');
    const path = await writeBundle(hash, code, { runtimeDir: runtime });
    assert.equal(dirname(path), intended);
    assert.equal((statSync(intended).mode & 0o777).toString(8), '700');
    assert.equal((statSync(path).mode & 0o777).toString(8), '600');
  });

  test('the worker side imports no client-only module', () => {
    // self-resolve.ts loads the public API only for bundles that import it, by a computed URL.
    const allowed =
      /^(node:[\w/]+|\.\.\/errors\.js|\.\/hash\.js|\.\.\/worker\/self-resolve\.js|\.\/redact\.js|\.\/error-codes\.js)$/;
    const here = fileURLToPath(new URL('../../src/packaging/', import.meta.url));
    for (const file of [
      'load.ts',
      'hash.ts',
      '../errors.ts',
      '../error-codes.ts',
      '../worker/self-resolve.ts',
      '../redact.ts',
    ]) {
      const source = readFileSync(join(here, file), 'utf8');
      const statements =
        /^\s*(?:import|export)\b[^;]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/gm;
      const specifiers = [...source.matchAll(statements)].map((m) => m[1] ?? m[2] ?? m[3]!);
      assert.ok(specifiers.length > 0 || file !== 'load.ts');
      for (const specifier of specifiers) assert.match(specifier, allowed, `${file} imports ${specifier}`);
    }
  });
});
