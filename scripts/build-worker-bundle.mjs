#!/usr/bin/env node
// Builds dist/bundle-worker/child.js, the entry every localhost worker (thread or process) and every
// `burst worker run` pool loads, from tsc's output: a few files instead of ~30, because each worker
// pays Node's loader a file open, stat and parse per module before it can run its first call (issue 16).
// Dependencies stay external, dynamic imports keep their own chunks, and each source file keeps its own
// import.meta.url (the file of dist/ it came from), as in build-esm-bundle.mjs.
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { esmDeclaration, metaUrlPlugin } from './meta-url-plugin.mjs';

const dist = new URL('../dist/', import.meta.url).pathname;
const outdir = join(dist, 'bundle-worker');

const result = await esbuild.build({
  entryPoints: [join(dist, 'worker', 'child.js')],
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
  plugins: [metaUrlPlugin(esmDeclaration(outdir))],
});
if (result.errors.length > 0) process.exit(1);
