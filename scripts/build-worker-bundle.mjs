#!/usr/bin/env node
// Builds dist/bundle-worker/child.cjs, the entry every localhost worker (thread or process) and every
// `burst worker run` pool loads, from tsc's output: one CommonJS file instead of ~30 ES modules,
// because each worker pays Node's ES module loader a resolve, read, parse and link per module before
// it can run its first call (issue 16). As CommonJS, a module reached only by a dynamic import()
// (storage, drivers) is in the same file but runs only when first imported, and the thread boots
// without the ES loader's work for its own code (~6 ms of CPU per thread on the test machine).
// Dependencies stay external (a dynamic import() of one stays an import()), and each source file
// keeps its own import.meta.url (the file of dist/ it came from), as in build-cjs.mjs.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { lazyBuiltinsPlugin } from './lazy-builtins.mjs';
import { cjsDeclaration, metaUrlPlugin } from './meta-url-plugin.mjs';

const dist = new URL('../dist/', import.meta.url).pathname;
const outdir = join(dist, 'bundle-worker');
await rm(outdir, { recursive: true, force: true });

const result = await esbuild.build({
  entryPoints: [join(dist, 'worker', 'child.js')],
  outfile: join(outdir, 'child.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  sourcesContent: false,
  keepNames: true,
  // Less for each thread to scan when it compiles the file (~2 ms of a thread's start).
  minifyWhitespace: true,
  logLevel: 'warning',
  // A thread's first call needs neither: the bundle check compares bytes (packaging/load.ts).
  plugins: [lazyBuiltinsPlugin(['node:crypto', 'node:fs/promises'], 'cjs'), metaUrlPlugin(cjsDeclaration(outdir))],
});
if (result.errors.length > 0) process.exit(1);
// Without the `__name` calls that change no name (packaging/names.ts): each is a defineProperty at
// every thread's start.
const { dropRedundantNames } = await import(join(dist, 'packaging', 'names.js'));
const entryFile = join(outdir, 'child.cjs');
await writeFile(entryFile, dropRedundantNames(await readFile(entryFile, 'utf8'), 'script'));
