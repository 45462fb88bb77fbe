// The esbuild plugin the build scripts share for Node built-ins that cost a fresh process or thread
// milliseconds to load (node:crypto alone ~4 ms in a worker thread) while most runs use them late or
// never. An import of one becomes functions that load the module on their first call (a default
// import: a proxy that loads it on first property access). As a bonus an ES module no longer goes
// through the built-in's ESM facade, which touches every export (node:crypto's loads webcrypto,
// node:child_process's net and dgram). A named import not listed fails the build ("No matching
// export"): add it if it is a function, or leave the module out.

/** Per module, the functions the sources import from it by name. */
const LAZY_BUILTINS = {
  'node:crypto': ['createHash', 'createHmac', 'randomBytes', 'timingSafeEqual'],
  'node:v8': ['serialize', 'deserialize', 'setFlagsFromString'],
  'node:child_process': ['spawn', 'fork', 'execFile'],
  'node:fs/promises': [
    'chmod',
    'copyFile',
    'lstat',
    'mkdir',
    'mkdtemp',
    'open',
    'readFile',
    'readdir',
    'readlink',
    'realpath',
    'rename',
    'rm',
    'rmdir',
    'stat',
    'symlink',
    'unlink',
    'writeFile',
  ],
};

/**
 * @param {string[]} modules which of {@link LAZY_BUILTINS} to defer
 * @param {'esm' | 'cjs'} format the build's output format (how the module is required)
 */
export function lazyBuiltinsPlugin(modules, format) {
  const filter = new RegExp(`^(${modules.map((m) => m.replace('/', '\\/')).join('|')})$`);
  const source = (name) =>
    [
      ...(format === 'esm' ? ['import { createRequire } from "node:module";'] : []),
      'let loaded;',
      format === 'esm'
        ? `const load = () => (loaded ??= createRequire(import.meta.url)(${JSON.stringify(name)}));`
        : `const load = () => (loaded ??= require(${JSON.stringify(name)}));`,
      ...LAZY_BUILTINS[name].map((n) => `export function ${n}(...args) { return load().${n}(...args); }`),
      'export default new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });',
    ].join('\n');
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({ filter }, (args) =>
        args.namespace === 'lazy-builtin'
          ? { path: args.path, external: true }
          : { path: args.path, namespace: 'lazy-builtin' },
      );
      build.onResolve({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ path: args.path, external: true }));
      build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
        contents: source(args.path),
        loader: 'js',
      }));
    },
  };
}
