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
import { FunctionExecutor, type ExecutorOptions } from 'burst';
import { simulate, rng, straightChain, type ReplicaResult, type ReplicaTask } from './hp.js';
import { exchange, ladder, type Slot, type SwapCounts } from './exchange.js';
import { drawFold } from './render.js';
import { BENCHMARKS } from './sequences.js';

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
  --backend NAME   localhost (default) or slurm
  --storage NAME   fs (default) or s3
  --workers W      localhost worker processes        (default: one per core)
  --config FILE    a Burst config file (Slurm partition, S3 endpoint, ...)
`;

const { values: flags } = parseArgs({
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
    backend: { type: 'string' },
    storage: { type: 'string' },
    workers: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** A flag as a positive number (an integer unless `integer` is false), or exit naming it. */
function num(name: string, value: string | undefined, integer = true): number {
  const n = Number(value);
  if (value === undefined || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
    process.exit(2);
  }
  return n;
}

/** The best conformation seen so far, and where. */
interface Best {
  energy: number;
  coords: Int32Array;
  round: number;
  temperature: number;
}

const pad = (v: string | number, w: number): string => String(v).padStart(w);

async function main(): Promise<void> {
  if (flags.help) return void process.stdout.write(HELP);
  const name = flags.sequence ? 'custom' : (flags.protein ?? (flags.small ? 'hp36' : 'hp64'));
  const bench = flags.sequence ? { sequence: flags.sequence.toUpperCase(), bestKnown: undefined } : BENCHMARKS[name];
  if (!bench) {
    console.error(`unknown --protein ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  const { sequence } = bench;
  const replicas = num('replicas', flags.replicas ?? (flags.small ? '4' : '8'));
  const rounds = num('rounds', flags.rounds ?? (flags.small ? '10' : '40'));
  const sweeps = num('sweeps', flags.sweeps ?? (flags.small ? '100' : '2000'));
  const seed = num('seed', flags.seed);
  const temps = ladder(num('tmin', flags.tmin, false), num('tmax', flags.tmax, false), replicas);
  const options: ExecutorOptions = { backend: flags.backend, storage: flags.storage, config: flags.config, progress: false };
  if (flags.workers !== undefined) options.workers = num('workers', flags.workers);

  console.log(`Replica-exchange Monte Carlo of the HP protein ${name} (${sequence.length} residues${bench.bestKnown !== undefined ? `, lowest energy known ${bench.bestKnown}` : ''})`);
  console.log(`${replicas} replicas at T = ${temps.map((t) => t.toFixed(3)).join(', ')}; ${rounds} rounds of ${sweeps} sweeps; seed ${seed}\n`);
  const showAll = replicas <= 12;
  console.log(`round  best  ${showAll ? 'energy by temperature, coldest first' : 'coldest   mean  hottest'}    swaps`);
  // Round 0: every replica starts unfolded, as a straight chain with no contacts.
  console.log(`${pad(0, 5)} ${pad(0, 5)}  ${showAll ? pad(0, 4).repeat(replicas) : `${pad(0, 7)} ${pad('0.0', 6)} ${pad(0, 8)}`}`);

  let slots: Slot[] = temps.map((_, k) => ({ coords: straightChain(sequence.length), energy: 0, replica: k }));
  const counts: SwapCounts = { attempted: [], accepted: [] };
  const moves = temps.map(() => ({ attempted: 0, accepted: 0 }));
  const lateEnergy = temps.map(() => ({ sum: 0, count: 0 }));
  const swapRand = rng([seed, 0x5a5a]);
  let best: Best = { energy: 0, coords: straightChain(sequence.length), round: 0, temperature: temps[0] as number };
  let fnSeconds = 0;
  const processes = new Set<string>();

  const fexec = new FunctionExecutor(options);
  const t0 = performance.now();
  try {
    for (let round = 0; round < rounds; round++) {
      const tasks: ReplicaTask[] = slots.map((s, k) => ({ sequence, coords: s.coords, temperature: temps[k] as number, sweeps, seed: [seed, round, k] }));
      const futures = await fexec.map(simulate, tasks);
      const results: ReplicaResult[] = await fexec.getResult(futures);
      for (const f of futures) {
        if (f.stats.fnStart !== undefined && f.stats.fnEnd !== undefined) fnSeconds += (f.stats.fnEnd - f.stats.fnStart) / 1000;
        processes.add(`${f.stats.hostname}:${f.stats.pid}`);
      }
      slots = results.map((r, k) => {
        const m = moves[k]!;
        m.attempted += r.attempted;
        m.accepted += r.accepted;
        if (round >= rounds / 2) {
          lateEnergy[k]!.sum += r.energy;
          lateEnergy[k]!.count++;
        }
        if (r.bestEnergy < best.energy) best = { energy: r.bestEnergy, coords: r.bestCoords, round: round + 1, temperature: temps[k] as number };
        return { coords: r.coords, energy: r.energy, replica: slots[k]!.replica };
      });
      const energies = slots.map((s) => s.energy);
      const pairs = Math.floor((replicas - (round % 2)) / 2);
      const swapped = exchange(slots, temps, round, swapRand, counts);
      const mean = energies.reduce((a, b) => a + b, 0) / replicas;
      const middle = showAll ? energies.map((e) => pad(e, 4)).join('') : `${pad(energies[0]!, 7)} ${pad(mean.toFixed(1), 6)} ${pad(energies[replicas - 1]!, 8)}`;
      console.log(`${pad(round + 1, 5)} ${pad(best.energy, 5)}  ${middle}    ${swapped}/${pairs}`);
    }
  } finally {
    await fexec.close();
  }
  const seconds = (performance.now() - t0) / 1000;

  console.log('\nswap acceptance between neighbouring temperatures:');
  for (let k = 0; k + 1 < replicas; k++) {
    const a = counts.attempted[k] ?? 0;
    const ok = counts.accepted[k] ?? 0;
    console.log(`  T ${temps[k]!.toFixed(3)} ↔ ${temps[k + 1]!.toFixed(3)}   ${pad(ok, 3)}/${pad(a, 3)}  ${a ? pad(((100 * ok) / a).toFixed(0), 3) : '  -'}%`);
  }
  console.log('\nper temperature: mean energy over the second half of the rounds, Monte Carlo moves accepted');
  temps.forEach((t, k) => {
    const late = lateEnergy[k]!;
    const m = moves[k]!;
    console.log(`  T ${t.toFixed(3)}   E ${pad((late.sum / Math.max(1, late.count)).toFixed(2), 7)}   moves ${pad(((100 * m.accepted) / Math.max(1, m.attempted)).toFixed(1), 5)}%`);
  });
  console.log(`\nlowest energy found: ${best.energy}${bench.bestKnown !== undefined ? ` (lowest known: ${bench.bestKnown})` : ''}, in round ${best.round} at T ${best.temperature.toFixed(3)}`);
  console.log(drawFold(sequence, best.coords));
  const calls = replicas * rounds;
  console.log(`\ntime ${seconds.toFixed(2)} s: ${rounds} maps of ${replicas} calls, ${(calls / seconds).toFixed(1)} calls/s; ` +
    `the function ran ${fnSeconds.toFixed(2)} s in total on ${processes.size} worker process${processes.size === 1 ? '' : 'es'}`);
}

await main();
