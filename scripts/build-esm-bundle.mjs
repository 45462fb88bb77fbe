#!/usr/bin/env node
// Builds dist/bundle/index.js, the ESM entry of the package (`import 'burst-compute'`), from tsc's
// output: a few files instead of ~70, because Node's loader pays a file open, stat and parse per
// module, and that was most of the cost of importing Burst (issue 16).
// - Dependencies stay external; code splitting keeps each dynamic import() (packaging, drivers…) in
//   its own chunk, so what a path loads lazily (and the packages it imports) still loads lazily.
// - Each source file keeps its own import.meta.url (the file of dist/ it came from), so the worker
//   entry, the CLI and package.json are found exactly as from the unbundled files.
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';

const dist = new URL('../dist/', import.meta.url).pathname;
const outdir = join(dist, 'bundle');

const metaUrlPlugin = {
  name: 'import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      const code = await readFile(args.path, 'utf8');
      if (!/\bimport\.meta\b/.test(code)) return undefined;
      const rel = relative(outdir, args.path);
      const out = await esbuild.transform(code, {
        loader: 'js',
        format: 'esm',
        define: { 'import.meta.url': '__burstMetaUrl' },
        sourcefile: args.path,
        target: 'node20',
      });
      const decl = `const __burstMetaUrl = new URL(${JSON.stringify(rel)}, import.meta.url).href;\n`;
      return { contents: decl + out.code, loader: 'js' };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [join(dist, 'index.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  sourcesContent: false,
  keepNames: true,
  logLevel: 'warning',
  plugins: [metaUrlPlugin],
});
if (result.errors.length > 0) process.exit(1);
