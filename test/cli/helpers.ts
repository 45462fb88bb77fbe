/**
 * Helpers of the CLI tests: run `burst ...` as a child process as a user would (through tsx, so the
 * tests need no build), in a sandbox with its own storage root and HOME (so no real
 * `~/.burst/config.json` is read), and write jobs into storage by hand.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '../../src/storage/index.ts';
import type { StorageDriver } from '../../src/storage/types.ts';
import { keys, pad } from '../../src/job/layout.ts';
import { MANIFEST_FORMAT, type JobManifest } from '../../src/job/manifest.ts';
import { VERSION } from '../../src/version.ts';
import { leaseKey } from '../../src/job/lease.ts';

export const repo = new URL('../../', import.meta.url).pathname;
export const mainTs = join(repo, 'src/cli/main.ts');
/** tsx by absolute URL, so the CLI runs from any working directory. */
export const tsx = import.meta.resolve('tsx');

/**
 * How to start the CLI: the built `dist/cli/main.js` when it is newer than every source file (as
 * after `npm test`'s build; it starts three times faster), else the sources through tsx.
 * BURST_TEST_CLI=src or =dist forces one.
 */
export const cliArgs: string[] = (() => {
  const dist = join(repo, 'dist/cli/main.js');
  const forced = process.env.BURST_TEST_CLI;
  if (
    forced === 'dist' ||
    (forced !== 'src' && existsSync(dist) && newestMtime(join(repo, 'src')) <= statSync(dist).mtimeMs)
  )
    return [dist];
  return ['--import', tsx, mainTs];
})();

function newestMtime(dir: string): number {
  let newest = 0;
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) newest = Math.max(newest, statSync(join(f.parentPath ?? f.path, f.name)).mtimeMs);
  }
  return newest;
}

/** What a finished command did. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary storage root, HOME and working folder, removed by `cleanup()`. */
export interface Sandbox {
  root: string;
  home: string;
  cwd: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** Variables that would let the user's own configuration leak into a test. */
const SCRUBBED =
  /^BURST_(CONFIG|CONFIG_FILE|BACKEND|STORAGE|BUCKET|WORKERS|TIMEOUT|RETRIES|RUNTIME_MEMORY|PROGRESS|LOCALHOST_CHANNEL|S3_.*|FS_.*)$/;

/** Makes a sandbox: BURST_FS_ROOT, HOME and a working folder of its own. */
export function sandbox(): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'burst-cli-test-'));
  const root = join(base, 'storage');
  const home = join(base, 'home');
  const cwd = join(base, 'work');
  for (const d of [home, cwd]) mkdirSync(d, { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUBBED.test(k)) env[k] = v;
  Object.assign(env, { BURST_FS_ROOT: root, HOME: home });
  return { root, home, cwd, env, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/** Runs `burst <args>` to completion. */
export function burst(
  args: string[],
  box: Sandbox,
  options: { env?: Record<string, string | undefined>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...cliArgs, ...args],
      {
        cwd: options.cwd ?? box.cwd,
        env: { ...box.env, ...options.env } as NodeJS.ProcessEnv,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 32 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Starts `burst <args>` and leaves it running (for the dashboard). */
export function startBurst(args: string[], box: Sandbox): ChildProcess {
  return spawn(process.execPath, [...cliArgs, ...args], {
    cwd: box.cwd,
    env: box.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Asserts exit code 0, showing the output when not. */
export function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Asserts a non-zero exit code and that stderr (or stdout) says each part. */
export function fails(r: Run, ...parts: string[]): Run {
  assert.notEqual(r.code, 0, `expected failure\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  for (const p of parts)
    assert.ok(
      r.stderr.includes(p) || r.stdout.includes(p),
      `output should include ${JSON.stringify(p)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  return r;
}

/** The sandbox's fs storage, with the bucket created. */
export async function sandboxStorage(box: Sandbox): Promise<StorageDriver> {
  const storage = await createStorage('fs', { root: box.root });
  if (!(await storage.bucketExists('burst'))) await storage.createBucket('burst');
  return storage;
}

/** Writes a job manifest by hand. */
export async function writeManifest(
  storage: StorageDriver,
  executorId: string,
  jobId: string,
  callCount: number,
  createdAt = Date.now(),
): Promise<string> {
  const jobKey = keys.job(executorId, jobId);
  const manifest: JobManifest = {
    format: MANIFEST_FORMAT,
    burstVersion: VERSION,
    executorId,
    jobId,
    callCount,
    functionHash: 'f'.repeat(64),
    functionName: 'square (tasks.ts:1:1)',
    ranges: [],
    env: {},
    timeoutSeconds: 600,
    createdAt,
  };
  await storage.put('burst', keys.manifest(jobKey), JSON.stringify(manifest));
  // A live client lease, so jobs with calls left read as running rather than abandoned.
  await storage.put(
    'burst',
    leaseKey(executorId),
    JSON.stringify({ holder: 'test:1', renewedAt: Date.now(), expiresAt: Date.now() + 3_600_000 }),
  );
  return jobKey;
}

/** A status record as a worker writes it; `fail` makes it a failed call with an error. */
export function statusRecord(
  callId: number,
  t0: number,
  o: { fail?: string; logs?: string; attempt?: number } = {},
): Record<string, unknown> {
  const fnStart = t0 + 100 * callId;
  return {
    callId,
    ok: !o.fail,
    attempt: o.attempt ?? 1,
    stats: {
      workerStart: t0,
      fnStart,
      fnEnd: fnStart + 250,
      cold: callId < 2,
      bytesIn: 8,
      bytesOut: o.fail ? 0 : 9,
      hostname: 'node-a',
      pid: 4000 + (callId % 2),
    },
    ...(o.fail
      ? {
          error: {
            kind: 'remote',
            name: 'Error',
            message: o.fail,
            stack: `Error: ${o.fail}\n    at square (tasks.ts:3:11)`,
          },
        }
      : {}),
    ...(o.logs ? { logs: o.logs } : {}),
  };
}

/** Writes per-call status objects. */
export async function writeStatuses(
  storage: StorageDriver,
  jobKey: string,
  records: Array<Record<string, unknown>>,
): Promise<void> {
  for (const r of records) await storage.put('burst', `${jobKey}/status/${pad(r.callId as number)}`, JSON.stringify(r));
}
