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
import { simulate, rng, straightChain, type ReplicaResult, type ReplicaTask } from './hp.js';
import { exchange, ladder, type Slot, type SwapCounts } from './exchange.js';
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

/** The best conformation seen so far, and where. */
interface Best {
  energy: number;
  coords: Int32Array;
  round: number;
  temperature: number;
}

/** What the rounds add up to. */
interface Tally {
  swaps: SwapCounts;
  /** Monte Carlo moves per temperature. */
  moves: Array<{ attempted: number; accepted: number }>;
  /** Energies per temperature over the second half of the rounds. */
  late: Array<{ sum: number; count: number }>;
  best: Best;
  fnSeconds: number;
  processes: Set<string>;
}

const pad = (v: string | number, w: number): string => String(v).padStart(w);

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

/** One line of the round table: best so far, energies by temperature (or a summary), swaps. */
function roundLine(round: number, best: number, energies: readonly number[], swaps: string): string {
  const n = energies.length;
  const mean = energies.reduce((a, b) => a + b, 0) / n;
  const middle =
    n <= 12
      ? energies.map((e) => pad(e, 4)).join('')
      : `${pad(energies[0]!, 7)} ${pad(mean.toFixed(1), 6)} ${pad(energies[n - 1]!, 8)}`;
  return `${pad(round, 5)} ${pad(best, 5)}  ${middle}    ${swaps}`.trimEnd();
}

/** Runs the rounds: one `map` over the replicas each, then the swaps; prints a line per round. */
async function runRounds(fexec: FunctionExecutor, s: Settings): Promise<Tally> {
  const { sequence, temps, rounds, sweeps, seed, replicas } = s;
  let slots: Slot[] = temps.map((_, k) => ({ coords: straightChain(sequence.length), energy: 0, replica: k }));
  const t: Tally = {
    swaps: { attempted: [], accepted: [] },
    moves: temps.map(() => ({ attempted: 0, accepted: 0 })),
    late: temps.map(() => ({ sum: 0, count: 0 })),
    best: { energy: 0, coords: straightChain(sequence.length), round: 0, temperature: temps[0] as number },
    fnSeconds: 0,
    processes: new Set(),
  };
  const swapRand = rng([seed, 0x5a5a]);
  // Round 0: every replica starts unfolded, as a straight chain with no contacts.
  console.log(
    roundLine(
      0,
      0,
      slots.map(() => 0),
      '',
    ),
  );
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
    slots = results.map((r, k) => {
      t.moves[k]!.attempted += r.attempted;
      t.moves[k]!.accepted += r.accepted;
      if (round >= rounds / 2) {
        t.late[k]!.sum += r.energy;
        t.late[k]!.count++;
      }
      if (r.bestEnergy < t.best.energy)
        t.best = { energy: r.bestEnergy, coords: r.bestCoords, round: round + 1, temperature: temps[k] as number };
      return { coords: r.coords, energy: r.energy, replica: slots[k]!.replica };
    });
    const energies = slots.map((slot) => slot.energy);
    const pairs = Math.floor((replicas - (round % 2)) / 2);
    const swapped = exchange(slots, temps, round, swapRand, t.swaps);
    console.log(roundLine(round + 1, t.best.energy, energies, `${swapped}/${pairs}`));
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
    `\ntime ${seconds.toFixed(2)} s: ${rounds} maps of ${replicas} calls, ${((replicas * rounds) / seconds).toFixed(1)} calls/s; ` +
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
    tally = await runRounds(fexec, s);
  } finally {
    await fexec.close();
  }
  report(s, tally, (performance.now() - t0) / 1000);
}

await main();
