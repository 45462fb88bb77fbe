/**
 * Replica exchange with one long-running call per temperature instead of one `map` per round: call
 * k keeps temperature k for the whole run; after each round it puts its result on the job's
 * `results` queue and waits on its own `slot-k` queue for the conformation the swaps hand it. The
 * client takes the R results of a round, swaps exactly as the map-per-round version does, and puts
 * each slot's next conformation on its queue. Same seeds, same swaps: the same energies.
 */
import { hostname } from 'node:os';
import type { CallContext, FunctionExecutor } from 'burst-compute';
import { rng, simulate, type ReplicaResult } from './hp.js';
import { settleRound, start, type RoundSettings, type Tally } from './rounds.js';

/** What one long-running replica call gets. */
export interface ReplicaRun {
  k: number;
  sequence: string;
  coords: Int32Array;
  temperature: number;
  sweeps: number;
  seed: number;
  rounds: number;
  /** Seconds to wait for the next conformation before giving up. */
  patience: number;
}

/** A round's result as it travels on the queue. */
export interface RoundMessage {
  k: number;
  round: number;
  result: ReplicaResult;
  seconds: number;
  where: string;
}

/** The long-running call of temperature k: every round, simulate, report, wait for the next conformation. */
export async function replicaLoop(run: ReplicaRun, ctx: CallContext): Promise<number> {
  const own = ctx.primitives.forJob(ctx.jobId);
  const results = own.queue<RoundMessage>('results');
  const inbox = own.queue<Int32Array>(`slot-${run.k}`);
  let coords = run.coords;
  for (let round = 0; round < run.rounds; round++) {
    const t0 = performance.now();
    const result = simulate({
      sequence: run.sequence,
      coords,
      temperature: run.temperature,
      sweeps: run.sweeps,
      // The map-per-round version's seed of call k in round r.
      seed: [run.seed, round, run.k],
    });
    const seconds = (performance.now() - t0) / 1000;
    await results.put({ k: run.k, round, result, seconds, where: `${hostname()}:${process.pid}` });
    if (round + 1 < run.rounds) coords = await inbox.get({ timeout: run.patience });
  }
  return run.rounds;
}

/** Runs every round through the queues; prints a line per round like the map-per-round version. */
export async function runQueued(fexec: FunctionExecutor, s: RoundSettings): Promise<Tally> {
  let { slots, tally: t } = start(s);
  const swapRand = rng([s.seed, 0x5a5a]);
  const patience = 600;
  const runs: ReplicaRun[] = s.temps.map((temperature, k) => ({
    k,
    sequence: s.sequence,
    coords: slots[k]!.coords,
    temperature,
    sweeps: s.sweeps,
    seed: s.seed,
    rounds: s.rounds,
    patience,
  }));
  // A replica call lives for the whole run, so its timeout is the run's.
  const futures = await fexec.map(replicaLoop, runs, { timeout: patience * (s.rounds + 1) });
  const own = fexec.primitives.forJob(futures[0]!.jobId);
  const results = own.queue<RoundMessage>('results');
  const failed = futures.getResult().then(
    () => undefined,
    (err: unknown) => err,
  );
  for (let round = 0; round < s.rounds; round++) {
    const byTemperature: ReplicaResult[] = [];
    for (let n = 0; n < s.replicas; n++) {
      // A replica call that fails must end the run, not leave the client waiting on the queue.
      const msg = await Promise.race([
        results.get({ timeout: patience }),
        failed.then((err) => {
          if (err) throw err;
          return new Promise<never>(() => undefined);
        }),
      ]);
      byTemperature[msg.k] = msg.result;
      t.fnSeconds += msg.seconds;
      t.processes.add(msg.where);
    }
    slots = settleRound(s, t, slots, byTemperature, round, swapRand);
    if (round + 1 < s.rounds)
      for (let k = 0; k < s.replicas; k++) await own.queue<Int32Array>(`slot-${k}`).put(slots[k]!.coords);
  }
  await futures.getResult();
  await own.clear();
  return t;
}
