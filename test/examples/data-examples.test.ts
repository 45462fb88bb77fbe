/** The wordcount and csv-analytics examples at small size, run as a user runs them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;

async function example(name: string): Promise<Record<string, unknown>> {
  const root = await mkdtemp(join(tmpdir(), `burst-${name}-`));
  try {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', `examples/${name}/main.ts`, '--small', '--json'],
      { cwd: repo, env: { ...process.env, BURST_FS_ROOT: root }, timeout: 120_000 },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('wordcount counts every generated word exactly once', async () => {
  const out = await example('wordcount');
  assert.equal(out.total, out.expected);
  assert.ok((out.total as number) > 100_000);
  assert.equal((out.top as Array<[string, number]>)[0]?.[0], 'the');
});

test('csv-analytics matches the direct computation', async () => {
  const out = await example('csv-analytics');
  assert.equal(out.matchesDirectComputation, true);
  const table = out.table as Array<{ carrier: string; flights: number }>;
  assert.equal(table.length, 8);
  assert.equal(
    table.reduce((n, r) => n + r.flights, 0),
    20_000,
  );
});
