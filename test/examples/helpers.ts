/**
 * Runs an example as a user does, in a child process (`node --import tsx examples/<name>/main.ts`),
 * with Burst's fs storage in a fresh temporary folder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The repository's root folder. */
export const repo = new URL('../../', import.meta.url).pathname;

/** Creates a temporary folder, passes it to `fn` and removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'burst-example-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `examples/<name>/main.ts` with `args` and `BURST_FS_ROOT=<root>`; resolves with its output and
 * rejects (with the output in the message) when it exits non-zero.
 */
export async function runExample(
  name: string,
  args: readonly string[],
  root: string,
  timeoutMs = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(process.execPath, ['--import', 'tsx', `examples/${name}/main.ts`, ...args], {
      cwd: repo,
      env: { ...process.env, BURST_FS_ROOT: root },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `example ${name} ${args.join(' ')} failed: ${e.message}\n--- stdout\n${e.stdout ?? ''}\n--- stderr\n${e.stderr ?? ''}`,
      { cause: err },
    );
  }
}

/** The lines of the Monte Carlo example's output that depend only on the simulated numbers (percentiles, loss, histogram). */
export function forecastNumbers(stdout: string): string {
  const lines = stdout.split('\n');
  const from = lines.findIndex((l) => l.startsWith('percentile'));
  const to = lines.findIndex((l) => l.startsWith('wrote '));
  assert.ok(from >= 0 && to > from, `unexpected output:\n${stdout}`);
  return lines.slice(from, to).join('\n');
}
