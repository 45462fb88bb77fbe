/**
 * Replica-exchange Monte Carlo folding of a lattice protein, in parallel with Burst and without MPI.
 *
 *   npx tsx examples/replica-exchange/main.ts                                  # hp64, 8 replicas
 *   npx tsx examples/replica-exchange/main.ts --replicas 192 --rounds 50      # the PyWren-IBM scale
 *   npx tsx examples/replica-exchange/main.ts --backend slurm --storage s3     # on a cluster
 *
 * R replicas of the protein run Metropolis Monte Carlo at R temperatures. Each round is one `map` over
 * the replicas (each call continues its replica for S sweeps and returns the new conformation and its
 * energy); between rounds the client swaps neighbouring temperatures' conformations by the Metropolis
 * criterion. Cold replicas refine folds, hot ones escape local minima, and swaps hand good folds down.
 */
import { parseArgs } from 'node:util';
import { FunctionExecutor, type ExecutorOptions } from 'burst-compute';
import { simulate, rng, type ReplicaResult, type ReplicaTask } from './hp.js';
import { ladder } from './exchange.js';
import { pad, settleRound, start, type Tally } from './rounds.js';
import { runQueued } from './queued.js';
import { drawFold } from './render.js';
import { BENCHMARKS } from './sequences.js';
import { executorFlags, executorFlagsHelp, executorOptions, parseFlags } from '../shared/executor-flags.js';

const HELP = `Usage: npx tsx examples/replica-exchange/main.ts [options]

  --protein NAME   a benchmark: ${Object.keys(BENCHMARKS).join(', ')}   (default hp64)
  --sequence HP..  any other H/P sequence instead
  --replicas R     replicas, one per temperature      (default 8; PyWren-IBM ran 12 to 192)
  --rounds N       rounds, one map each               (default 40)
  --sweeps S       Monte Carlo sweeps per call        (default 2000)
  --tmin T         coldest temperature                (default 0.25)
  --tmax T         hottest temperature                (default 0.6)
  --seed S         seed of the whole run              (default 1)
  --small          hp36, 4 replicas, 10 rounds of 100 sweeps (the test size)
  --queue          one long-running call per temperature, replicas exchanged through queues
                   (ctx.primitives) instead of one map per round; the same energies. Needs a
                   worker per replica (set on localhost), and Redis on other backends
${executorFlagsHelp}`;

const flags = parseFlags(HELP, () =>
  parseArgs({
    options: {
      protein: { type: 'string' },
      sequence: { type: 'string' },
      replicas: { type: 'string' },
      rounds: { type: 'string' },
      sweeps: { type: 'string' },
      tmin: { type: 'string', default: '0.25' },
      tmax: { type: 'string', default: '0.6' },
      seed: { type: 'string', default: '1' },
      small: { type: 'boolean', default: false },
      queue: { type: 'boolean', default: false },
      ...executorFlags,
    },
  }),
);

/** A flag as a positive number (an integer unless `integer` is false), or exit naming it. */
function num(name: string, value: string | undefined, integer = true): number {
  const n = Number(value);
  if (value === undefined || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
    process.exit(2);
  }
  return n;
}

/** The run's settings, from the flags. */
interface Settings {
  name: string;
  sequence: string;
  bestKnown: number | undefined;
  replicas: number;
  rounds: number;
  sweeps: number;
  seed: number;
  temps: number[];
  options: ExecutorOptions;
}

/** Indices 0..n-1 to print: all of them up to 12, else 10 evenly spaced ones (first and last included). */
function shown(n: number): number[] {
  if (n <= 12) return Array.from({ length: n }, (_, i) => i);
  return [...new Set(Array.from({ length: 10 }, (_, i) => Math.round((i * (n - 1)) / 9)))];
}

function settings(): Settings {
  const name = flags.sequence ? 'custom' : (flags.protein ?? (flags.small ? 'hp36' : 'hp64'));
  const bench = flags.sequence ? { sequence: flags.sequence.toUpperCase(), bestKnown: undefined } : BENCHMARKS[name];
  if (!bench) {
    console.error(`unknown --protein ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  const replicas = num('replicas', flags.replicas ?? (flags.small ? '4' : '8'));
  const options = executorOptions(flags, { progress: false });
  // --queue: every replica call runs for the whole run, so each needs a worker of its own.
  if (flags.queue && flags.workers === undefined) options.workers = replicas;
  if (flags.queue && options.workers !== undefined && options.workers < replicas) {
    console.error(`--queue runs one long call per replica: --workers must be at least --replicas (${replicas})`);
    process.exit(2);
  }
  return {
    name,
    sequence: bench.sequence,
    bestKnown: bench.bestKnown,
    replicas,
    rounds: num('rounds', flags.rounds ?? (flags.small ? '10' : '40')),
    sweeps: num('sweeps', flags.sweeps ?? (flags.small ? '100' : '2000')),
    seed: num('seed', flags.seed),
    temps: ladder(num('tmin', flags.tmin, false), num('tmax', flags.tmax, false), replicas),
    options,
  };
}

/** Runs the rounds: one `map` over the replicas each, then the swaps; prints a line per round. */
async function runRounds(fexec: FunctionExecutor, s: Settings): Promise<Tally> {
  const { sequence, temps, rounds, sweeps, seed } = s;
  let { slots, tally: t } = start(s);
  const swapRand = rng([seed, 0x5a5a]);
  for (let round = 0; round < rounds; round++) {
    const tasks: ReplicaTask[] = slots.map((slot, k) => ({
      sequence,
      coords: slot.coords,
      temperature: temps[k] as number,
      sweeps,
      seed: [seed, round, k],
    }));
    const futures = await fexec.map(simulate, tasks);
    const results: ReplicaResult[] = await fexec.getResult(futures);
    for (const f of futures) {
      if (f.stats.fnStart !== undefined && f.stats.fnEnd !== undefined)
        t.fnSeconds += (f.stats.fnEnd - f.stats.fnStart) / 1000;
      t.processes.add(`${f.stats.hostname}:${f.stats.pid}`);
    }
    slots = settleRound(s, t, slots, results, round, swapRand);
  }
  return t;
}

/** Prints the swap rates, the settled energies, the best fold and the timing. */
function report(s: Settings, t: Tally, seconds: number): void {
  const { temps, replicas, rounds } = s;
  console.log(
    `\nswap acceptance between neighbouring temperatures${replicas > 12 ? ` (10 of ${replicas - 1} pairs)` : ''}:`,
  );
  for (const k of shown(replicas - 1)) {
    const a = t.swaps.attempted[k] ?? 0;
    const ok = t.swaps.accepted[k] ?? 0;
    console.log(
      `  T ${temps[k]!.toFixed(3)} ↔ ${temps[k + 1]!.toFixed(3)}   ${pad(ok, 3)}/${pad(a, 3)}  ${a ? pad(((100 * ok) / a).toFixed(0), 3) : '  -'}%`,
    );
  }
  console.log('\nper temperature: mean energy over the second half of the rounds, Monte Carlo moves accepted');
  for (const k of shown(replicas)) {
    const late = t.late[k]!;
    const m = t.moves[k]!;
    console.log(
      `  T ${temps[k]!.toFixed(3)}   E ${pad((late.sum / Math.max(1, late.count)).toFixed(2), 7)}   moves ${pad(((100 * m.accepted) / Math.max(1, m.attempted)).toFixed(1), 5)}%`,
    );
  }
  const known = s.bestKnown !== undefined ? ` (lowest known: ${s.bestKnown})` : '';
  console.log(
    `\nlowest energy found: ${t.best.energy}${known}, in round ${t.best.round} at T ${t.best.temperature.toFixed(3)}`,
  );
  console.log(drawFold(s.sequence, t.best.coords));
  const procs = t.processes.size;
  console.log(
    (flags.queue
      ? `\ntime ${seconds.toFixed(2)} s: ${replicas} long-running calls of ${rounds} rounds, ${((replicas * rounds) / seconds).toFixed(1)} replica-rounds/s; `
      : `\ntime ${seconds.toFixed(2)} s: ${rounds} maps of ${replicas} calls, ${((replicas * rounds) / seconds).toFixed(1)} calls/s; `) +
      `the function ran ${t.fnSeconds.toFixed(2)} s in total on ${procs} worker process${procs === 1 ? '' : 'es'}`,
  );
}

async function main(): Promise<void> {
  const s = settings();
  const known = s.bestKnown !== undefined ? `, lowest energy known ${s.bestKnown}` : '';
  console.log(`Replica-exchange Monte Carlo of the HP protein ${s.name} (${s.sequence.length} residues${known})`);
  const ladderText =
    s.replicas <= 12
      ? s.temps.map((t) => t.toFixed(3)).join(', ')
      : `${s.temps[0]!.toFixed(3)} … ${s.temps[s.replicas - 1]!.toFixed(3)} (geometric)`;
  console.log(
    `${s.replicas} replicas at T = ${ladderText}; ${s.rounds} rounds of ${s.sweeps} sweeps; seed ${s.seed}\n`,
  );
  console.log(
    `round  best  ${s.replicas <= 12 ? 'energy by temperature, coldest first' : 'coldest   mean  hottest'}    swaps`,
  );
  const fexec = new FunctionExecutor(s.options);
  const t0 = performance.now();
  let tally: Tally;
  try {
    tally = flags.queue ? await runQueued(fexec, s) : await runRounds(fexec, s);
  } finally {
    await fexec.close();
  }
  report(s, tally, (performance.now() - t0) / 1000);
}

await main();
