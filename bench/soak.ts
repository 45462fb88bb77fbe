/**
 * Soak run (issues 8 and 15): 20,000 calls with random faults (crashes, hangs, exceptions) plus random
 * SIGKILLs of worker processes, `retries: 2`. Every call appends `<callId> <attempt>` to a marker file
 * when it starts, so the soak counts executions, not only results. Prints calls submitted, succeeded,
 * failed with their reasons, results lost (must be 0), duplicated results (must be 0), successful
 * calls that ran more than once per attempt or ran an attempt they do not report (must be 0), and
 * attempts run but not reported. Writes bench/results/soak.json.
 *
 *   npm run build && node --import tsx bench/soak.ts [--calls 20000] [--kills 20]
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FunctionExecutor } from '../dist/index.js';
import { soakTask } from './soak-tasks.ts';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '20000' }, kills: { type: 'string', default: '20' } },
});
const n = Number(values.calls);
const here = new URL('.', import.meta.url).pathname;

const fexec = new FunctionExecutor({ retries: 2, timeout: 2, progress: false });
const t0 = Date.now();
const inputs = Array.from({ length: n }, (_, i) => i);
const markerDir = await mkdtemp(join(tmpdir(), 'burst-soak-'));
const marker = join(markerDir, 'executions');
const futures = await fexec.map(soakTask, inputs, { extraArgs: { marker } });
let kills = 0;
const killed = new Set<number>();
while (kills < Number(values.kills) && futures.some((f) => !f.done)) {
  await new Promise((r) => setTimeout(r, 100));
  const pids = [...new Set(Array.from(futures, (f) => f.stats.pid).filter((p): p is number => !!p && !killed.has(p)))];
  const pid = pids[Math.floor(Math.random() * pids.length)];
  if (pid === undefined) continue;
  killed.add(pid);
  try {
    process.kill(pid, 'SIGKILL');
    kills++;
  } catch {
    // already gone
  }
}
const results = await fexec.getResult(futures, { throwOnError: false, timeout: 600 });
const seconds = (Date.now() - t0) / 1000;
await fexec.close();

const reasons: Record<string, number> = {};
let succeeded = 0;
let wrong = 0;
const seen = new Set<number>();
let duplicated = 0;
results.forEach((r, i) => {
  if (r instanceof Error) {
    const code = (r as { code?: string }).code ?? r.name;
    reasons[code] = (reasons[code] ?? 0) + 1;
    return;
  }
  succeeded++;
  if (r.id !== i) wrong++;
  if (seen.has(r.id)) duplicated++;
  seen.add(r.id);
});
const retried = futures.filter((f) => f.stats.attempt > 1).length;
const lost = futures.filter((f) => !f.done).length + wrong;

// Executions, from the marker file: how often each (call, attempt) ran.
const runs = new Map<string, number>();
for (const line of (await readFile(marker, 'utf8')).split('\n')) if (line) runs.set(line, (runs.get(line) ?? 0) + 1);
await rm(markerDir, { recursive: true, force: true });
let successRanTwice = 0;
let attemptRanTwice = 0;
let unreportedAttempts = 0;
for (const f of futures) {
  for (let a = 1; a <= f.stats.attempt; a++) {
    const count = runs.get(`${f.callId} ${a}`) ?? 0;
    if (count > 1) attemptRanTwice++;
    if (f.status === 'success' && a === f.stats.attempt && count !== 1) successRanTwice++;
  }
  if (runs.has(`${f.callId} ${f.stats.attempt + 1}`)) unreportedAttempts++;
}
const executions = [...runs.values()].reduce((a, b) => a + b, 0);
const report = {
  calls: n,
  seconds,
  workerKills: kills,
  succeeded,
  failed: n - succeeded,
  failedByReason: reasons,
  callsRetried: retried,
  resultsLost: lost,
  resultsDuplicated: duplicated,
  executions,
  successfulCallsNotRunExactlyOnce: successRanTwice,
  attemptsRunTwice: attemptRanTwice,
  attemptsRunButNotReported: unreportedAttempts,
};
console.log(JSON.stringify(report, null, 2));
await mkdir(`${here}results`, { recursive: true });
await writeFile(
  `${here}results/soak.json`,
  `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`,
);
