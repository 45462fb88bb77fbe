/**
 * Builds what a Burst Lambda function runs: the worker bundle (the Lambda handler, the worker process
 * entry and Burst's public API: ESM files with the AWS SDK inside, sharing chunks) and the layer of
 * the project's production npm dependencies, both as deterministic zips.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';
import { VERSION } from '../../version.js';

/** A built zip. */
export interface BuiltZip {
  bytes: Buffer;
  /** Hex SHA-256 of the zip. */
  sha256: string;
  /** Bytes of its files before compression. */
  unzippedBytes: number;
  files: number;
}

/** Lambda's limit on a function and its layers, unzipped. */
export const UNZIPPED_LIMIT = 250 * 1024 * 1024;

const ts = import.meta.url.endsWith('.ts');
const srcFile = (rel: string): string => fileURLToPath(new URL(`../../${rel}.${ts ? 'ts' : 'js'}`, import.meta.url));

/**
 * Packages the API entry leaves out: client-side tools a Lambda task cannot use (packaging: esbuild and
 * the parser; TypeScript config files, plots, other clouds' deploy SDKs). Each is reached only through
 * a dynamic import, so leaving it out costs nothing until a task calls what needs it; packaging, the
 * one a task might reach (a nested map), fails before that with a typed error (assertCanPackage).
 */
const API_EXTERNALS = [
  'esbuild',
  'acorn',
  'eslint-scope',
  'eslint-visitor-keys',
  'tsx',
  'vega',
  'vega-lite',
  '@kubernetes/client-node',
  '@google-cloud/run',
  'cli-progress',
];

/**
 * Bundles the Lambda handler into `<outDir>/index.js` (handler `index.handler`), the worker process
 * entry into `<outDir>/child.js`, which the process pool forks from beside it, and Burst's public API
 * into `<outDir>/api.js`, which a function that imports `burst-compute` gets (src/worker/self-resolve.ts).
 * The three share chunks (`chunk-*.js`), so the API's error classes and `Storage` are the very modules
 * the worker runs, and code reached only by a dynamic import loads only when it is used.
 */
export async function buildWorkerBundle(outDir: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  await mkdir(outDir, { recursive: true });
  const versionFile = srcFile('version');
  const result = await esbuild.build({
    entryPoints: {
      index: srcFile('backends/aws_lambda/worker/entry'),
      child: srcFile('worker/child'),
      api: srcFile('index'),
    },
    outdir: outDir,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    metafile: true,
    external: API_EXTERNALS,
    // Where self-resolve finds the API: beside the chunk it runs in (all outputs share one folder).
    // and why a task here cannot package a function (no esbuild): a nested map fails at once, typed.
    define: { __BURST_SELF_API__: JSON.stringify('./api.js'), __BURST_NO_PACKAGING__: JSON.stringify('AWS Lambda') },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    // CommonJS packages inside an ESM bundle still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __burstRequire } from 'node:module'; const require = __burstRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [
      {
        // version.ts reads ../package.json at run time, which the function does not have: inline it.
        name: 'burst-version',
        setup(build) {
          build.onLoad({ filter: /[\\/]version\.(ts|js)$/ }, (args) =>
            args.path === versionFile
              ? { contents: `export const VERSION = ${JSON.stringify(VERSION)};`, loader: 'js' }
              : undefined,
          );
        },
      },
    ],
  });
  await writeFile(
    join(outDir, 'package.json'),
    `${JSON.stringify({ type: 'module', private: true, description: `Burst ${VERSION} worker for AWS Lambda` })}\n`,
  );
  const outputs = Object.keys(result.metafile.outputs).map((f) => relative(outDir, f).split(sep).join('/'));
  return [...outputs.sort(), 'package.json'];
}

/** Zips files given as `[path in zip, path on disk]`, in a stable order with fixed times. */
export async function zipFiles(entries: ReadonlyArray<readonly [string, string]>): Promise<BuiltZip> {
  const { ZipFile } = (await import('yazl')).default;
  const zip = new ZipFile();
  const mtime = new Date('2020-01-01T00:00:00Z'); // same content, same zip, same hash
  let unzippedBytes = 0;
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, path] of sorted) {
    const s = await stat(path);
    unzippedBytes += s.size;
    zip.addBuffer(await readFile(path), name, { mtime, mode: s.mode & 0o111 ? 0o100755 : 0o100644 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), unzippedBytes, files: sorted.length };
}

/** Builds the worker bundle in `outDir` and zips it as the function's code. */
export async function functionZip(outDir: string): Promise<BuiltZip> {
  const files = await buildWorkerBundle(outDir);
  return zipFiles(files.map((f) => [f, join(outDir, f)] as const));
}

/**
 * The layer zip of the production dependencies of `projectDir/package.json` (and theirs), as
 * installed in its node_modules, under `nodejs/node_modules/`. Burst itself is left out (and so is
 * every dependency of Burst's own checkout): the worker bundle carries it. Returns undefined when there is nothing to put in a layer.
 */
export async function layerZip(projectDir: string): Promise<BuiltZip | undefined> {
  const packages = await productionPackages(projectDir);
  const entries: Array<[string, string]> = [];
  for (const { dir, at } of packages) {
    for (const file of await packageFiles(dir))
      entries.push([`nodejs/node_modules/${at}/${relative(dir, file).split(sep).join('/')}`, file]);
  }
  if (entries.length === 0) return undefined;
  const zip = await zipFiles(entries);
  if (zip.unzippedBytes > UNZIPPED_LIMIT) {
    throw new ConfigError(
      `the production dependencies of ${projectDir} take ${(zip.unzippedBytes / 2 ** 20).toFixed(0)} MB, over Lambda's 250 MB limit for a function and its layers: move development tools to devDependencies`,
      { backend: 'aws_lambda' },
    );
  }
  return zip;
}

interface FoundPackage {
  /** Real folder of the package. */
  dir: string;
  /** Its path under node_modules in the layer (`a`, `@s/b`, `a/node_modules/c`). */
  at: string;
}

/** The installed packages reachable from the project's `dependencies` and `optionalDependencies`. */
export async function productionPackages(projectDir: string): Promise<FoundPackage[]> {
  const manifest = await readJson(join(projectDir, 'package.json'));
  if (!manifest)
    throw new ConfigError(
      `no package.json in ${projectDir}: run "burst runtime deploy" in your project folder, or pass --dir`,
      { backend: 'aws_lambda' },
    );
  // Burst's own folder: the worker bundle already carries Burst, and functions bundle their imports.
  if ((manifest as { name?: string }).name === 'burst-compute') return [];
  const root = join(projectDir, 'node_modules');
  const found = new Map<string, FoundPackage>();
  const visit = async (names: string[], from: string, optional: Set<string>): Promise<void> => {
    for (const name of names) {
      if (name === 'burst-compute') continue;
      const dir = resolvePackage(name, from);
      if (!dir) {
        if (optional.has(name)) continue;
        throw new ConfigError(
          `the dependency "${name}" of ${from} is not installed: run "npm install" (or "npm ci") in ${projectDir} first`,
          { backend: 'aws_lambda' },
        );
      }
      const real = await realpath(dir);
      if (found.has(real)) continue;
      const rel = relative(root, dir);
      found.set(real, { dir: real, at: rel.startsWith('..') ? name : rel.split(sep).join('/') });
      const pkg = (await readJson(join(real, 'package.json'))) ?? {};
      const deps = Object.keys(pkg.dependencies ?? {});
      const opt = Object.keys(pkg.optionalDependencies ?? {});
      await visit([...deps, ...opt], dir, new Set(opt));
    }
  };
  const opt = Object.keys(manifest.optionalDependencies ?? {});
  await visit([...Object.keys(manifest.dependencies ?? {}), ...opt], projectDir, new Set(opt));
  return [...found.values()];
}

/** Node's lookup of a package folder: `node_modules/<name>` in `from` and each folder above it. */
function resolvePackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Files of a package, without its own node_modules (nested dependencies are packages of their own). */
async function packageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name === 'node_modules' && d === dir) continue;
      if (e.name === '.bin') continue;
      const s = e.isSymbolicLink() ? await stat(p).catch(() => undefined) : await lstat(p);
      if (s?.isDirectory()) await walk(p);
      else if (s?.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function readJson(path: string): Promise<PackageJson | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}
