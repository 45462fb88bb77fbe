/**
 * Helpers of the package tier: pack Burst once with `npm pack`, install the tarball into fresh consumer
 * projects under os.tmpdir() (as a user would, from npm's cache), and run programs there as separate
 * processes. Nothing here imports Burst's sources: the consumers see only the installed package.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where `npm pack` runs). */
export const repo = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** What a finished process printed. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args` and resolves with its exit code and output (never rejects for a non-zero exit). */
export function run(file: string, args: readonly string[], options: ExecFileOptions & { cwd: string }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: 180_000, maxBuffer: 16 * 2 ** 20, encoding: 'utf8', ...options },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        if (error && typeof code !== 'number') {
          const killed = (error as { killed?: boolean }).killed ? ' (killed: it did not finish in time)' : '';
          return reject(
            new Error(
              `${file} ${args.join(' ')}${killed}: ${error.message}\nstdout:\n${String(stdout)}\nstderr:\n${String(stderr)}`,
            ),
          );
        }
        resolve({ code: typeof code === 'number' ? code : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Like {@link run}, but rejects with the output when the exit code is not 0. */
export async function runOk(
  file: string,
  args: readonly string[],
  options: ExecFileOptions & { cwd: string },
): Promise<Ran> {
  const r = await run(file, args, options);
  if (r.code !== 0)
    throw new Error(`${file} ${args.join(' ')} exited with ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/**
 * Packs the repository into `dir`; returns the tarball's path. The build runs first only when dist/
 * is missing or older than a source file (in `npm test` it was just built): `npm pack` itself runs
 * with --ignore-scripts, so its `prepare` never deletes dist/ under tests running beside this one.
 */
export async function pack(dir: string): Promise<string> {
  if (!(await distIsFresh())) await runOk(npm, ['run', 'build'], { cwd: repo, timeout: 600_000 });
  const { stdout } = await runOk(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: repo,
    timeout: 600_000,
  });
  const info = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
  const name = info[0]?.filename;
  if (!name) throw new Error(`npm pack printed no file name:\n${stdout}`);
  return join(dir, name);
}

/** True when dist/ holds a complete build newer than every file it is built from. */
async function distIsFresh(): Promise<boolean> {
  // `npm run build` writes the worker entry last (scripts/build-worker-bundle.mjs).
  const built = await stat(join(repo, 'dist', 'bundle-worker', 'child.cjs')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built === 0) return false;
  const sources = [join(repo, 'package.json'), join(repo, 'tsconfig.json')];
  // Every script, not a list of the build's: a helper added to the build must not be missed.
  for (const f of await readdir(join(repo, 'scripts'))) if (f.endsWith('.mjs')) sources.push(join(repo, 'scripts', f));
  for (const f of await readdir(join(repo, 'src'), { recursive: true }))
    if (f.endsWith('.ts')) sources.push(join(repo, 'src', f));
  for (const f of sources) if ((await stat(f)).mtimeMs > built) return false;
  return true;
}

/** A consumer project: its folder and a runner with a private storage root. */
export interface Consumer {
  dir: string;
  /** Environment of every program run in the project (its own BURST_FS_ROOT, no stray config). */
  env: NodeJS.ProcessEnv;
  /** `npx <args>` in the project. */
  npx(args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Promise<Ran>;
  /** `node <args>` in the project. */
  node(args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Promise<Ran>;
  /** Writes files (paths relative to the project). */
  write(files: Record<string, string>): Promise<void>;
}

/**
 * Creates a fresh project the way `npm init -y` does (plus `"type": "module"` when asked) and
 * installs the tarball into it.
 */
export async function consumer(root: string, name: string, tarball: string, type?: 'module'): Promise<Consumer> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await runOk(npm, ['init', '-y'], { cwd: dir });
  if (type) {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    pkg.type = type;
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  }
  await runOk(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir, timeout: 600_000 });
  const env: NodeJS.ProcessEnv = { ...process.env, BURST_FS_ROOT: join(dir, '.burst-storage') };
  for (const key of Object.keys(env)) if (key.startsWith('BURST_') && key !== 'BURST_FS_ROOT') delete env[key];
  delete env.NODE_OPTIONS; // the test runner's tsx loader is not the user's
  const c: Consumer = {
    dir,
    env,
    npx: (args, extraEnv = {}) => run(npx, ['--no-install', ...args], { cwd: dir, env: { ...env, ...extraEnv } }),
    node: (args, extraEnv = {}) => run(process.execPath, args, { cwd: dir, env: { ...env, ...extraEnv } }),
    write: async (files) => {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
    },
  };
  return c;
}

/** A fresh temporary folder for the tier's projects. */
export function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'burst-package-'));
}

/** Removes the tier's folder. */
export function removeRoot(root: string): Promise<void> {
  return rm(root, { recursive: true, force: true });
}

/** The code blocks of the README section `heading`, with their language and first-line file name. */
export async function readmeBlocks(heading: string): Promise<Array<{ lang: string; name?: string; code: string }>> {
  const readme = await readFile(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => {
    const code = m[2] as string;
    const name = /^\/\/ ([\w.-]+\.[cm]?[jt]s)\b/.exec(code)?.[1];
    return { lang: m[1] as string, ...(name ? { name } : {}), code };
  });
}

/** Function bundles the project's workers cached (the content Burst shipped). */
export async function cachedBundles(dir: string): Promise<string[]> {
  const folder = join(dir, 'node_modules', '.cache', 'burst', 'functions');
  const files = await readdir(folder).catch(() => [] as string[]);
  return Promise.all(files.filter((f) => f.endsWith('.mjs')).map((f) => readFile(join(folder, f), 'utf8')));
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (up to `ms`) for all `pids` to be gone; returns those still alive. */
export async function survivors(pids: readonly number[], ms = 10_000): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(alive);
  }
  return left;
}
