/**
 * The benchmark suite: runs each benchmark in its own process, side by side with its baselines, then
 * writes bench/results/latest.md (a table a user can read, with the machine it ran on) from the JSON
 * results. Never asserts a time. `npm run bench` from the repository root.
 *
 *   node --import tsx run.ts [--only core,schedule,storage,partition,slurm] [--quick]   (--only report: just rewrite latest.md)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { renderCore } from './core-table.ts';

const here = new URL('.', import.meta.url).pathname;
const repo = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } } });
const wanted = new Set((values.only ?? 'core,schedule,storage,partition,slurm').split(','));

function run(name: string, args: string[], needs?: () => string | undefined): void {
  if (!wanted.has(name)) return;
  const missing = needs?.();
  if (missing) {
    console.error(`bench ${name}: skipped (${missing})`);
    return;
  }
  console.error(`bench ${name}: node ${args.join(' ')}`);
  const r = spawnSync(process.execPath, args, { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) console.error(`bench ${name}: exited with ${r.status}`);
}

const service = (script: string): string | undefined => {
  const r = spawnSync('bash', [`${repo}scripts/services/${script}.sh`, 'start'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return r.status === 0 ? undefined : `scripts/services/${script}.sh start failed`;
};

run('core', ['--import', 'tsx', 'core.ts', ...(values.quick ? ['--quick'] : [])]);
run('schedule', ['--import', 'tsx', 'schedule.ts', ...(values.quick ? ['--runs', '1'] : [])]);
run('storage', ['storage.mjs'], () => service('ceph'));
run('partition', ['--import', 'tsx', 'partition.ts', ...(values.quick ? ['--size', String(128 * 2 ** 20)] : [])], () =>
  service('ceph'),
);
run('slurm', ['--import', 'tsx', 'slurm.ts'], () => service('slurm'));

type Json = Record<string, unknown>;
const read = (name: string): Json | undefined => {
  const file = `${here}results/${name}.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Json) : undefined;
};

const lines: string[] = [
  '# Benchmark results',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Written ${new Date().toISOString()}.`,
  '',
];
const core = read('core');
if (core) lines.push('## Localhost (issue 16)', '', renderCore(core), '');
for (const name of ['schedule', 'storage', 'partition', 'slurm', 'soak']) {
  const r = read(name);
  if (r) lines.push(`## ${name}`, '', '```json', JSON.stringify(r, null, 2), '```', '');
}
writeFileSync(`${here}results/latest.md`, `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
