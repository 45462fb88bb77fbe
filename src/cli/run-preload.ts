/**
 * Preloaded by `burst run` (with `--import`, after tsx) so that `import 'burst-compute'` and
 * `require('burst-compute')` work in a script outside any project that installs Burst: when the usual
 * resolution finds no `burst-compute` package, they resolve to the copy of Burst that runs this command. A
 * project's own installed `burst-compute` still wins.
 *
 * ESM: a resolve hook registered with `module.register` (given as a data: URL, so it needs no file
 * of its own), which retries through the rest of the chain so that tsx can load a `.ts` entry.
 * The script itself is loaded as an ES module when `burst run` says so (BURST_RUN_ESM_ENTRY: a
 * `.ts`/`.js` script with import/export syntax and no "type" in its package.json, which Node and
 * tsx would otherwise run as CommonJS, where top-level await fails).
 * CommonJS (tsx compiles `.ts` scripts without `"type": "module"` to CommonJS): a wrapper around
 * `Module._resolveFilename`, the hook Node 20 offers for `require`; loading the ESM entry with
 * `require` needs Node 20.19 or newer.
 */
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const entryUrl = new URL(import.meta.url.endsWith('.ts') ? '../index.ts' : '../index.js', import.meta.url).href;
const packageJsonUrl = new URL('../../package.json', import.meta.url).href;

const esmEntry = process.env.BURST_RUN_ESM_ENTRY ?? '';
delete process.env.BURST_RUN_ESM_ENTRY;

const hooks = `
const esmEntry = ${JSON.stringify(esmEntry)};
const targets = { 'burst-compute': ${JSON.stringify(entryUrl)}, 'burst-compute/package.json': ${JSON.stringify(packageJsonUrl)} };
export async function resolve(specifier, context, next) {
  const target = targets[specifier];
  if (target === undefined) {
    const resolved = await next(specifier, context);
    return esmEntry !== '' && resolved.url === esmEntry ? { ...resolved, format: 'module' } : resolved;
  }
  try {
    return await next(specifier, context);
  } catch (err) {
    if (err && (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')) return next(target, context);
    throw err;
  }
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

type ResolveFilename = (request: string, ...rest: unknown[]) => string;
const cjs = Module as unknown as { _resolveFilename: ResolveFilename };
const original = cjs._resolveFilename;
const cjsTargets: Record<string, string> = {
  'burst-compute': fileURLToPath(entryUrl),
  'burst-compute/package.json': fileURLToPath(packageJsonUrl),
};
cjs._resolveFilename = function resolveBurst(this: unknown, request: string, ...rest: unknown[]): string {
  try {
    return original.call(this, request, ...rest);
  } catch (err) {
    const target = cjsTargets[request];
    const code = (err as { code?: string }).code;
    if (target !== undefined && (code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED'))
      return target;
    throw err;
  }
};
