// The esbuild plugin the build scripts share: a bundled file keeps the import.meta.url of the file of
// dist/ it came from (the worker entry, the CLI and package.json are found from there), through a
// `__burstMetaUrl` constant that `declaration(path)` defines for that file. CommonJS output has no
// import.meta.resolve either: `cjsDeclaration` defines `__burstMetaResolve` in its place.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import * as esbuild from 'esbuild';

/** @param {(path: string) => string} declaration the statement that defines __burstMetaUrl for a file */
export function metaUrlPlugin(declaration) {
  return {
    name: 'import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.js$/, namespace: 'file' }, async (args) => {
        const code = await readFile(args.path, 'utf8');
        if (!/\bimport\.meta\b/.test(code)) return undefined;
        const out = await esbuild.transform(code, {
          loader: 'js',
          format: 'esm',
          define: {
            'import.meta.url': '__burstMetaUrl',
            ...(declaration.resolves ? { 'import.meta.resolve': '__burstMetaResolve' } : {}),
          },
          sourcefile: args.path,
          target: 'node20',
        });
        return { contents: `${declaration(args.path)}\n${out.code}`, loader: 'js' };
      });
    },
  };
}

/** For ES module output in `outdir`: the source file's URL, relative to the output file's own. */
export function esmDeclaration(outdir) {
  return (path) => `const __burstMetaUrl = new URL(${JSON.stringify(relative(outdir, path))}, import.meta.url).href;`;
}

/** For CommonJS output in `outdir`: the source file's URL, from the output file's own folder. */
export function cjsDeclaration(outdir) {
  const declaration = (path) =>
    `const __burstMetaUrl = require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(relative(outdir, path))})).href;\n` +
    // Resolved as require() would (its "require" export conditions), which is all CommonJS can do.
    'const __burstMetaResolve = (specifier) => require("node:url").pathToFileURL(require.resolve(specifier)).href;';
  declaration.resolves = true;
  return declaration;
}
