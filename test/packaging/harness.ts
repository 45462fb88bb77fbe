/**
 * Shared helpers of the packaging tests: a throw-away copy of the fixture project (with its
 * node_modules assembled from test/fixtures/packaging/packages), and fresh `node` processes that
 * import a bundle from an empty folder, where none of the fixture's packages can be found.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/packaging/', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PACKAGING_MODULE = join(REPO_ROOT, 'src', 'packaging', 'index.ts');
export const LOAD_MODULE = join(REPO_ROOT, 'src', 'packaging', 'load.ts');
export const TSX_LOADER = import.meta.resolve('tsx');

const temps: string[] = [];

/** A new temporary folder, removed by {@link removeTemps}. */
export function tempDir(prefix = 'burst-packaging-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Removes every folder made by {@link tempDir}. */
export function removeTemps(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Copies the fixture project into a temporary folder, with the fixture packages in its node_modules. */
export function makeProject(): string {
  const root = tempDir('burst-project-');
  cpSync(join(FIXTURES, 'project'), root, { recursive: true });
  for (const name of readdirSync(join(FIXTURES, 'packages'))) {
    cpSync(join(FIXTURES, 'packages', name), join(root, 'node_modules', name), { recursive: true });
  }
  return root;
}

/** A runtime folder whose node_modules holds only the named fixture packages. */
export function makeRuntime(packages: string[]): string {
  const root = tempDir('burst-runtime-');
  mkdirSync(join(root, 'node_modules'));
  for (const name of packages)
    cpSync(join(FIXTURES, 'packages', name), join(root, 'node_modules', name), { recursive: true });
  return root;
}

/** Imports `module` in the test process (tsx is loaded there) and returns the named export. */
export async function importFrom<T>(file: string, name: string): Promise<T> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  return module[name] as T;
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node args...` with a minimal environment; resolves with its exit code and output. */
export function runNode(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<ProcessResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? options.cwd,
    ...options.env,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Writes `code` to a file in an empty temporary folder, imports it in a fresh `node` (no tsx, no
 * node_modules around) and calls its default export with each of `inputs`. Returns the results.
 */
export async function callBundleInFreshProcess(
  code: string,
  inputs: unknown[],
): Promise<{ results: unknown[]; run: ProcessResult }> {
  const dir = tempDir('burst-worker-');
  const bundleFile = join(dir, 'bundle.mjs');
  writeFileSync(bundleFile, code);
  const script = [
    `const fn = (await import(${JSON.stringify(pathToFileURL(bundleFile).href)})).default;`,
    `const results = [];`,
    `for (const input of ${JSON.stringify(inputs)}) results.push(await fn(input));`,
    `process.stdout.write('RESULTS ' + JSON.stringify(results));`,
  ].join('\n');
  const run = await runNode(['--input-type=module', '-e', script], { cwd: dir });
  const line = run.stdout.split('RESULTS ')[1];
  if (run.code !== 0 || line === undefined) {
    throw new Error(`bundle process failed (exit ${run.code}):\n${run.stderr}\n${run.stdout}`);
  }
  return { results: JSON.parse(line) as unknown[], run };
}

/**
 * In a fresh `node` (with tsx only to load Burst's TypeScript), loads a bundle through
 * `loadBundle(hash, code, { runtimeDir })` and calls it with `input`.
 */
export function loadInFreshProcess(
  hash: string,
  code: string,
  input: unknown,
  runtimeDir?: string,
): Promise<ProcessResult> {
  const dir = tempDir('burst-loader-');
  const codeFile = join(dir, 'code.txt');
  writeFileSync(codeFile, code);
  const options = runtimeDir === undefined ? '{}' : JSON.stringify({ runtimeDir });
  const script = [
    `import { readFileSync } from 'node:fs';`,
    `const { loadBundle } = await import(${JSON.stringify(pathToFileURL(LOAD_MODULE).href)});`,
    `const fn = await loadBundle(${JSON.stringify(hash)}, readFileSync(${JSON.stringify(codeFile)}), ${options});`,
    `process.stdout.write('RESULT ' + JSON.stringify(await fn(${JSON.stringify(input)})));`,
  ].join('\n');
  return runNode(['--import', TSX_LOADER, '--input-type=module', '-e', script], { cwd: dir });
}

/** The JSON after `RESULT ` in a process's output. */
export function resultOf(run: ProcessResult): unknown {
  const line = run.stdout.split('RESULT ')[1];
  if (run.code !== 0 || line === undefined)
    throw new Error(`process failed (exit ${run.code}):\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(line);
}
