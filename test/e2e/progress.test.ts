/**
 * The progress bar appears on stderr for a wait longer than a second when stderr is a terminal, and
 * never when it is not (or with progress: false). A real pseudo-terminal comes from util-linux `script`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
const command = `${process.execPath} --import tsx test/e2e/fixtures/progress.ts`;

test('a progress bar on a terminal, silence on a pipe', {
  skip: existsSync('/usr/bin/script') ? false : 'util-linux script is not installed',
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-progress-'));
  try {
    const env = { ...process.env, BURST_FS_ROOT: root };
    const tty = await run('script', ['-qfec', command, '/dev/null'], { cwd: repo, env, timeout: 60_000 });
    assert.match(tty.stdout, /burst \[.*\] \d\/3 calls/, `no progress bar on the terminal:\n${tty.stdout}`);
    assert.match(tty.stdout, /\[1500,1500,10\]/);

    const piped = await run(process.execPath, ['--import', 'tsx', 'test/e2e/fixtures/progress.ts'], {
      cwd: repo,
      env,
      timeout: 60_000,
    });
    assert.equal(piped.stderr, '');
    assert.equal(piped.stdout, '[1500,1500,10]\n');

    const off = await run('script', ['-qfec', command, '/dev/null'], {
      cwd: repo,
      env: { ...env, NO_PROGRESS: '1' },
      timeout: 60_000,
    });
    assert.doesNotMatch(off.stdout, /burst \[/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
