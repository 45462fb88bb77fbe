#!/usr/bin/env node
// Builds dist/index.cjs (+ index.d.cts) from tsc's ESM output, so that `require('burst-compute')`
// works from CommonJS on every Node 20 (which cannot require an ES module before 20.19).
// - Dependencies stay external; a dynamic import() of one stays an import() (ESM-only packages load).
// - Each file keeps its own import.meta.url (the ESM file beside it in dist/), so the worker entry,
//   the CLI and package.json are found exactly as the ESM build finds them.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { cjsDeclaration, metaUrlPlugin as metaUrlPluginFor } from './meta-url-plugin.mjs';

const dist = new URL('../dist/', import.meta.url).pathname;

const metaUrlPlugin = metaUrlPluginFor(cjsDeclaration(dist));

const result = await esbuild.build({
  entryPoints: [join(dist, 'index.js')],
  outfile: join(dist, 'index.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  sourcesContent: false,
  keepNames: true,
  logLevel: 'warning',
  plugins: [metaUrlPlugin],
});
if (result.errors.length > 0) process.exit(1);
// Without the `__name` calls that change no name (packaging/names.ts): each is a defineProperty at load.
const { dropRedundantNames } = await import(join(dist, 'packaging', 'names.js'));
const cjsFile = join(dist, 'index.cjs');
await writeFile(cjsFile, dropRedundantNames(await readFile(cjsFile, 'utf8'), 'script'));
// Types: the same declarations, seen from a CommonJS importer.
await writeFile(join(dist, 'index.d.cts'), "export * from './index.js';\n");
