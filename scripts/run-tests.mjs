#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner and tsx (Node 20 has no --test globs).
// Usage: node scripts/run-tests.mjs [path-filter ...]
//
// Independent files run three at a time (BURST_TEST_CONCURRENCY, default 3): most of a file's time is
// spent waiting on child processes, services and npm, so on two cores three at a time keep both busy
// (two at a time left the suite at ~16 of its ~25 minutes in this group). Files
// that measure how processes die or are scheduled (kills, signals, Slurm cancellations, leaks) run
// afterwards, one at a time (ALONE), so a neighbour's load cannot change what they observe.
// Each group prints its own report as it runs; the last line sums both groups.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const ALONE = ['test/faults/', 'test/backends/slurm', 'test/worker/serve-cancel'];
// Fault files that observe only their own process (its handles, heap, child processes and threads,
// or pure decoding) and no timing: a neighbour cannot change what they see, so they share the load.
const NOT_ALONE = ['test/faults/no-leaks', 'test/faults/fuzz-decode', 'test/faults/max-failures'];

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = readdirSync(join(root, 'test'), { recursive: true })
  .map((f) => join('test', String(f)))
  .filter((f) => f.endsWith('.test.ts') && !f.split(/[\\/]/).includes('node_modules'))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const alone = files.filter((f) => ALONE.some((p) => f.startsWith(p)) && !NOT_ALONE.some((p) => f.startsWith(p)));
const together = files.filter((f) => !alone.includes(f));
const concurrency = process.env.BURST_TEST_CONCURRENCY ?? '3';
const tapDir = mkdtempSync(join(tmpdir(), 'burst-tests-'));

/** Runs one group; returns its exit status and the counts from its TAP summary. */
function runGroup(name, groupFiles, groupConcurrency) {
  if (groupFiles.length === 0) return { status: 0, counts: {} };
  const tap = join(tapDir, `${name}.tap`);
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${groupConcurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...groupFiles,
  ];
  console.error(`[${name}] node ${args.map((a) => relative(root, a) || a).join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  const counts = {};
  try {
    for (const m of readFileSync(tap, 'utf8').matchAll(/^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$/gm))
      counts[m[1]] = Number(m[2]);
  } catch {
    // No TAP file: the runner itself failed; its status says so.
  }
  console.error(`[${name}] ${groupFiles.length} files in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { status: r.status ?? 1, counts };
}

const groups = [runGroup('together', together, concurrency), runGroup('alone', alone, '1')];
rmSync(tapDir, { recursive: true, force: true });
const sum = (k) => groups.reduce((n, g) => n + (g.counts[k] ?? 0), 0);
const failed = sum('fail') + sum('cancelled');
const status = groups.find((g) => g.status !== 0)?.status ?? 0;
console.log(`tests: ${sum('pass')} passed, ${failed} failed, ${sum('skipped')} skipped`);
process.exit(status !== 0 ? status : failed > 0 ? 1 : 0);
