#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner and tsx (Node 20 has no --test globs).
// Usage: node scripts/run-tests.mjs [path-filter ...]
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

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
const concurrency = process.env.BURST_TEST_CONCURRENCY ?? '1';
const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files];
console.error(`node ${args.map((a) => relative(root, a) || a).join(' ')}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
