#!/usr/bin/env node
// Builds dist/index.cjs (+ index.d.cts) from tsc's ESM output, so that `require('burst-compute')`
// works from CommonJS on every Node 20 (which cannot require an ES module before 20.19).
// - Dependencies stay external; a dynamic import() of one stays an import() (ESM-only packages load).
// - Each file keeps its own import.meta.url (the ESM file beside it in dist/), so the worker entry,
//   the CLI and package.json are found exactly as the ESM build finds them.
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';

const dist = new URL('../dist/', import.meta.url).pathname;

const metaUrlPlugin = {
  name: 'import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      const code = await readFile(args.path, 'utf8');
      if (!/\bimport\.meta\b/.test(code)) return undefined;
      const rel = relative(dist, args.path);
      const out = await esbuild.transform(code, {
        loader: 'js',
        format: 'esm',
        define: { 'import.meta.url': '__burstMetaUrl' },
        sourcefile: args.path,
        target: 'node20',
      });
      const decl = `const __burstMetaUrl = require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(rel)})).href;\n`;
      return { contents: decl + out.code, loader: 'js' };
    });
  },
};

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
// Types: the same declarations, seen from a CommonJS importer.
await writeFile(join(dist, 'index.d.cts'), "export * from './index.js';\n");
