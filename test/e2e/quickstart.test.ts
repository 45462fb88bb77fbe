/**
 * The README quick start, run exactly as printed (examples/quickstart), and a main script whose
 * function lives at its top level: both as a user runs them, in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;

async function withRoot<T>(fn: (root: string) => Promise<T>): Promise<T> {
  const root = await mkdtemp(join(tmpdir(), 'burst-e2e-'));
  try {
    return await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('the README quick start prints [ 8, 9, 10, 11 ] and exits by itself', async () => {
  await withRoot(async (root) => {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'examples/quickstart/main.mts'], {
      cwd: repo,
      env: { ...process.env, BURST_FS_ROOT: root },
      timeout: 60_000,
    });
    assert.equal(stdout, '[ 8, 9, 10, 11 ]\n');
    assert.equal(stderr, '');
  });
});

test("a main script's own function ships without its top level running again", async () => {
  await withRoot(async (root) => {
    const marker = join(root, 'marker.txt');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/e2e/fixtures/main-local.ts'], {
      cwd: repo,
      env: { ...process.env, BURST_FS_ROOT: root, MARKER_FILE: marker },
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(stdout), { triple: [103, 106, 109], inline: ['A', 'B'], logs: ['', '', ''] });
    const lines = (await readFile(marker, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 1, `the top level ran ${lines.length} times:\n${lines.join('\n')}`);
  });
});
