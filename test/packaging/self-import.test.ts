// Code that imports Burst itself ships without Burst in its bundle, and runs with the worker's own
// copy; the import.meta/__dirname rewrite works on syntax, not on text.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageFunction } from '../../src/packaging/index.js';
import { pinModulePaths } from '../../src/packaging/bundle.js';
import { importFrom, loadInFreshProcess, REPO_ROOT, removeTemps, resultOf, tempDir } from './harness.js';

type Fn = (...args: never[]) => unknown;

describe('pinModulePaths', () => {
  const file = '/proj/src/mod.ts';
  const url = pathToFileURL(file).href;

  test('replaces import.meta.url, filename, dirname and free __dirname/__filename', async () => {
    const out = await pinModulePaths(
      'export const a = [import.meta.url, import.meta.filename, import.meta.dirname, __dirname, __filename];\n',
      file,
    );
    const code = out.split('\n//# sourceMappingURL=')[0] as string;
    for (const value of [url, file, '/proj/src'])
      assert.ok(code.includes(JSON.stringify(value)), `${value} in ${code}`);
    assert.doesNotMatch(code, /import\.meta|__dirname|__filename/);
  });

  test('leaves strings, comments, template text and local bindings alone', async () => {
    const source = [
      'const s: string = "import.meta.url and __dirname";',
      "const q = 'import.meta.dirname';",
      '// import.meta.url in a comment',
      '/* __filename in a block comment */',
      'const t = `import.meta.url ${import.meta.url} __dirname`;',
      'function local(): string { const __dirname = "mine"; return __dirname; }',
      'export { s, q, t, local };',
    ].join('\n');
    const out = await pinModulePaths(source, file);
    assert.match(out, /"import\.meta\.url and __dirname"/);
    assert.match(out, /"import\.meta\.dirname"/);
    assert.ok(out.includes(`\`import.meta.url \${${JSON.stringify(url)}} __dirname\``), out);
    assert.match(out, /const __dirname\d* = "mine"/);
    assert.ok(!out.includes('"/proj/src"'), 'the local __dirname is not replaced');
  });

  test('returns code without such references unchanged', async () => {
    const source = 'export const x = "no meta here";\n';
    assert.equal(await pinModulePaths(source, file), source);
  });
});

describe('a function whose module imports burst-compute', () => {
  after(removeTemps);

  test("ships without Burst in its bundle and runs with the loading worker's copy", async () => {
    const project = tempDir('burst-self-');
    // A project with burst-compute installed: its entry is this checkout's source.
    const pkg = join(project, 'node_modules', 'burst-compute');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'burst-compute', type: 'module', exports: { '.': './index.js' } }),
    );
    writeFileSync(
      join(pkg, 'index.js'),
      `export * from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'src', 'index.ts')).href)};\n`,
    );
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(project, 'uses-burst.mjs'),
      [
        "import { ConfigError, isBurstError, Storage } from 'burst-compute';",
        'export async function probe(x) {',
        "  const dynamic = await import('burst-compute');",
        "  return { x, branded: isBurstError(new ConfigError('probe')), storage: typeof Storage, same: dynamic.Storage === Storage, url: import.meta.url };",
        '}',
      ].join('\n'),
    );
    const probe = await importFrom<Fn>(join(project, 'uses-burst.mjs'), 'probe');
    const bundle = await packageFunction(probe);
    assert.doesNotMatch(bundle.code, /class FunctionExecutor|class StorageBucket/, 'Burst is not bundled');
    assert.doesNotMatch(bundle.code, /from "burst-compute"|require\("burst-compute"\)/, 'nor left as a bare import');
    assert.deepEqual(bundle.externals, []);
    // Loaded from the per-user temporary cache, far from any node_modules holding burst-compute.
    const result = resultOf(await loadInFreshProcess(bundle.hash, bundle.code, 7));
    assert.deepEqual(result, {
      x: 7,
      branded: true,
      storage: 'function',
      same: true,
      url: pathToFileURL(join(project, 'uses-burst.mjs')).href,
    });
  });
});

describe('virtual entries of one-line scripts (tsx output)', () => {
  test('keep every kept declaration at its original column, so the chained source map covers it', async () => {
    const { analyzeScript, findFunctionAt } = await import('../../src/packaging/analyze.js');
    const { virtualEntry } = await import('../../src/packaging/entry.js');
    const source = 'import{a,b}from"x";import{c}from"y";const k=1;function f(y){return a(y)+k}console.log(f(1));';
    const analysis = analyzeScript(source, true, 'one-line.mjs');
    const node = findFunctionAt(analysis, source.indexOf('function f'));
    assert.ok(node);
    const line = virtualEntry(analysis, node, 'f').split('\n')[0] as string;
    assert.equal(line.indexOf('function f'), source.indexOf('function f'));
    assert.equal(line.indexOf('const k=1;'), source.indexOf('const k=1;'));
    assert.match(line, /^import\{a\}from"x";/);
  });
});
