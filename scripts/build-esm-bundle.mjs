#!/usr/bin/env node
// Builds dist/bundle/, the ESM entry of the package (`import 'burst-compute'`), from tsc's output.
// Node's loader pays a resolve, file read, parse and link per module, and that was most of the cost of
// importing Burst (issue 16), so the import is two files:
// - core.js: every module the entry reaches by static imports, in one file, exporting each module's
//   exports under a private name (`__b<module>_<name>`);
// - index.js: the public names, re-exported from core.js;
// - everything reached only through a dynamic import() (packaging, drivers, backends…) is a second,
//   code-split build whose modules import the core modules' bindings from core.js, so each module
//   still exists once (registries, caches) and what loads lazily still loads lazily.
// Dependencies stay external. Each source file keeps its own import.meta.url (the file of dist/ it
// came from), so the worker entry, the CLI and package.json are found exactly as from dist/.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as acorn from 'acorn';
import * as esbuild from 'esbuild';
import { lazyBuiltinsPlugin } from './lazy-builtins.mjs';
import { esmDeclaration, metaUrlPlugin as metaUrlPluginFor } from './meta-url-plugin.mjs';

const dist = new URL('../dist/', import.meta.url).pathname;
const outdir = join(dist, 'bundle');
const shared = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  sourcesContent: false,
  keepNames: true,
  minifyWhitespace: true,
  logLevel: 'warning',
  absWorkingDir: dist,
};

// Stale chunks of an earlier build would be shipped (and found by tests) though nothing imports them.
await rm(outdir, { recursive: true, force: true });

const metaUrlPlugin = metaUrlPluginFor(esmDeclaration(outdir));

// 1. The module graph (metafile keys are paths relative to dist/).
const probe = await esbuild.build({
  ...shared,
  entryPoints: ['index.js'],
  write: false,
  metafile: true,
  splitting: true,
  outdir,
  sourcemap: false,
  logLevel: 'silent',
});
const inputs = probe.metafile.inputs;
const core = new Set();
const stack = ['index.js'];
while (stack.length > 0) {
  const key = stack.pop();
  if (core.has(key)) continue;
  core.add(key);
  for (const i of inputs[key].imports) if (i.kind === 'import-statement' && !i.external) stack.push(i.path);
}
const lazy = new Set();
for (const key of core) {
  for (const i of inputs[key].imports)
    if (i.kind === 'dynamic-import' && !i.external && !core.has(i.path)) lazy.add(i.path);
}
const coreList = [...core].sort();
const coreIndex = new Map(coreList.map((k, n) => [k, n]));
const privateName = (key, name) => `__b${coreIndex.get(key)}_${name}`;

// 2. Each core module's export names.
const scan = await esbuild.build({
  entryPoints: coreList,
  absWorkingDir: dist,
  outdir: '/nonexistent',
  outbase: dist,
  bundle: false,
  format: 'esm',
  write: false,
  metafile: true,
  logLevel: 'silent',
});
const exportsOf = new Map();
for (const out of Object.values(scan.metafile.outputs)) if (out.entryPoint) exportsOf.set(out.entryPoint, out.exports);
for (const key of coreList) if (!exportsOf.has(key)) throw new Error(`build-esm-bundle: no exports found for ${key}`);

const keyOf = (args) => relative(dist, join(args.resolveDir, args.path));
const isRelative = (path) => path.startsWith('./') || path.startsWith('../');

// Deferred built-ins (lazy-builtins.mjs), in core.js and the lazy files alike. node:fs/promises is
// not among them: an ES module's import of node:fs loads it anyway (its facade reads fs.promises).
const lazyBuiltins = lazyBuiltinsPlugin(['node:crypto', 'node:v8', 'node:child_process'], 'esm');

// 3. The lazy part: code-split, with imports of core modules turned into imports from core.js.
const lazyOutput = new Map();
/** The private names the lazy files import from core.js: core.js exports those and the public ones only. */
const fromCore = new Set();
/** The names a built file imports or re-exports from core.js (parsed, so none is missed). */
async function namesFromCore(file) {
  const program = acorn.parse(await readFile(file, 'utf8'), { ecmaVersion: 'latest', sourceType: 'module' });
  const names = [];
  for (const node of program.body) {
    if (node.source?.value !== './core.js') continue;
    if (node.type === 'ExportAllDeclaration') throw new Error(`build-esm-bundle: ${file} re-exports all of core.js`);
    for (const spec of node.specifiers ?? []) {
      if (spec.type === 'ImportNamespaceSpecifier') throw new Error(`build-esm-bundle: ${file} imports all of core.js`);
      const name = spec.type === 'ImportSpecifier' ? spec.imported : spec.local;
      if (spec.type === 'ImportDefaultSpecifier') names.push('default');
      else names.push(name.type === 'Identifier' ? name.name : name.value);
    }
  }
  return names;
}
if (lazy.size > 0) {
  const coreRefs = {
    name: 'core-refs',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.namespace === 'burst-core') return { path: args.path, external: true };
        if (!isRelative(args.path) || args.kind === 'entry-point') return undefined;
        const key = keyOf(args);
        return core.has(key) ? { path: key, namespace: 'burst-core' } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'burst-core' }, (args) => {
        const names = exportsOf.get(args.path).map((n) => `${privateName(args.path, n)} as ${n}`);
        return { contents: `export { ${names.join(', ')} } from "./core.js";\n`, loader: 'js' };
      });
    },
  };
  const built = await esbuild.build({
    ...shared,
    entryPoints: [...lazy],
    outdir,
    outbase: dist,
    splitting: true,
    metafile: true,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    plugins: [coreRefs, lazyBuiltins, metaUrlPlugin],
  });
  if (built.errors.length > 0) process.exit(1);
  for (const [file, out] of Object.entries(built.metafile.outputs)) {
    if (out.entryPoint !== undefined && file.endsWith('.js'))
      lazyOutput.set(out.entryPoint, `./${relative(outdir, join(dist, file))}`);
    if (file.endsWith('.js')) for (const name of await namesFromCore(join(dist, file))) fromCore.add(name);
  }
}

// 4. The core: one file holding every statically imported module; dynamic imports point at step 3's files.
// What the import would otherwise pay for on every run: version.js reads package.json (a require, a
// file read, a JSON parse), so its version is inlined; and the lazy built-ins above.
const version = JSON.parse(await readFile(join(dist, '../package.json'), 'utf8')).version;
const inlineVersion = {
  name: 'inline-version',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]version\.js$/ }, () => ({
      contents: `export const VERSION = ${JSON.stringify(version)};\n`,
      loader: 'js',
    }));
  },
};
const lazyRefs = {
  name: 'lazy-refs',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import' || !isRelative(args.path)) return undefined;
      const target = lazyOutput.get(keyOf(args));
      return target === undefined ? undefined : { path: target, external: true };
    });
  },
};
// Only what index.js and the lazy files use is exported, so esbuild drops the rest (as a split build does).
const needed = (key, n) => key === 'index.js' || fromCore.has(privateName(key, n));
const coreEntry = coreList
  .map((key) => [key, exportsOf.get(key).filter((n) => needed(key, n))])
  .filter(([, names]) => names.length > 0)
  .map(
    ([key, names]) =>
      `export { ${names.map((n) => `${n} as ${privateName(key, n)}`).join(', ')} } from ${JSON.stringify(`./${key}`)};`,
  )
  .join('\n');
const builtCore = await esbuild.build({
  ...shared,
  stdin: { contents: coreEntry, resolveDir: dist, sourcefile: 'burst-core.js', loader: 'js' },
  outfile: join(outdir, 'core.js'),
  metafile: true,
  plugins: [lazyRefs, inlineVersion, lazyBuiltins, metaUrlPlugin],
});
if (builtCore.errors.length > 0) process.exit(1);
{
  // Every name a lazy file imports must be exported by core.js, or that file fails when first loaded.
  const exported = new Set(builtCore.metafile.outputs[relative(dist, join(outdir, 'core.js'))].exports);
  const missing = [...fromCore].filter((n) => !exported.has(n));
  if (missing.length > 0) throw new Error(`build-esm-bundle: core.js lacks ${missing.join(', ')}`);
}
// BURST_BUNDLE_REPORT=1: what core.js holds, largest first (the cost of `import 'burst-compute'`).
if (process.env.BURST_BUNDLE_REPORT) {
  const held = Object.entries(builtCore.metafile.outputs[relative(dist, join(outdir, 'core.js'))].inputs);
  for (const [file, { bytesInOutput }] of held.sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput))
    console.log(bytesInOutput, file);
}

// 5. The entry: the public names of dist/index.js.
const publicNames = exportsOf.get('index.js').map((n) => `${privateName('index.js', n)} as ${n}`);
const builtIndex = await esbuild.build({
  stdin: { contents: `export { ${publicNames.join(', ')} } from "./core.js";\n`, sourcefile: 'index.js', loader: 'js' },
  outfile: join(outdir, 'index.js'),
  format: 'esm',
  bundle: true,
  external: ['./core.js'],
  logLevel: 'warning',
});
if (builtIndex.errors.length > 0) process.exit(1);

// 6. Without the `__name` calls that change no name (the pass users' bundles get, packaging/names.ts):
// each is a defineProperty at every import.
const { dropRedundantNames } = await import(join(dist, 'packaging', 'names.js'));
for (const file of (await readdir(outdir)).filter((f) => f.endsWith('.js')).map((f) => join(outdir, f)))
  await writeFile(file, dropRedundantNames(await readFile(file, 'utf8'), 'module'));
