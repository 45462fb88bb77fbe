/**
 * What both versions of the example share: the tally of the rounds and how one round's results are
 * folded into it before the swaps, so the map-per-round run (main.ts) and the queue run (queued.ts)
 * print the same table for the same seed.
 */
import { straightChain, type ReplicaResult } from './hp.js';
import { exchange, type Slot, type SwapCounts } from './exchange.js';

/** The best conformation seen so far, and where. */
export interface Best {
  energy: number;
  coords: Int32Array;
  round: number;
  temperature: number;
}

/** What the rounds add up to. */
export interface Tally {
  swaps: SwapCounts;
  /** Monte Carlo moves per temperature. */
  moves: Array<{ attempted: number; accepted: number }>;
  /** Energies per temperature over the second half of the rounds. */
  late: Array<{ sum: number; count: number }>;
  best: Best;
  fnSeconds: number;
  processes: Set<string>;
}

/** The run's shape, as the rounds need it. */
export interface RoundSettings {
  sequence: string;
  temps: number[];
  rounds: number;
  sweeps: number;
  seed: number;
  replicas: number;
}

export const pad = (v: string | number, w: number): string => String(v).padStart(w);

/** One line of the round table: best so far, energies by temperature (or a summary), swaps. */
export function roundLine(round: number, best: number, energies: readonly number[], swaps: string): string {
  const n = energies.length;
  const mean = energies.reduce((a, b) => a + b, 0) / n;
  const middle =
    n <= 12
      ? energies.map((e) => pad(e, 4)).join('')
      : `${pad(energies[0]!, 7)} ${pad(mean.toFixed(1), 6)} ${pad(energies[n - 1]!, 8)}`;
  return `${pad(round, 5)} ${pad(best, 5)}  ${middle}    ${swaps}`.trimEnd();
}

/** Every replica unfolded, an empty tally, and the printed round 0. */
export function start(s: RoundSettings): { slots: Slot[]; tally: Tally } {
  const slots = s.temps.map((_, k) => ({ coords: straightChain(s.sequence.length), energy: 0, replica: k }));
  const tally: Tally = {
    swaps: { attempted: [], accepted: [] },
    moves: s.temps.map(() => ({ attempted: 0, accepted: 0 })),
    late: s.temps.map(() => ({ sum: 0, count: 0 })),
    best: { energy: 0, coords: straightChain(s.sequence.length), round: 0, temperature: s.temps[0] as number },
    fnSeconds: 0,
    processes: new Set(),
  };
  // Round 0: every replica starts unfolded, as a straight chain with no contacts.
  console.log(
    roundLine(
      0,
      0,
      slots.map(() => 0),
      '',
    ),
  );
  return { slots, tally };
}

/** Folds round `round`'s results (by temperature) into the tally, swaps, prints the line; returns the new slots. */
export function settleRound(
  s: RoundSettings,
  t: Tally,
  previous: Slot[],
  results: readonly ReplicaResult[],
  round: number,
  swapRand: () => number,
): Slot[] {
  const slots = results.map((r, k) => {
    t.moves[k]!.attempted += r.attempted;
    t.moves[k]!.accepted += r.accepted;
    if (round >= s.rounds / 2) {
      t.late[k]!.sum += r.energy;
      t.late[k]!.count++;
    }
    if (r.bestEnergy < t.best.energy)
      t.best = { energy: r.bestEnergy, coords: r.bestCoords, round: round + 1, temperature: s.temps[k] as number };
    return { coords: r.coords, energy: r.energy, replica: previous[k]!.replica };
  });
  const energies = slots.map((slot) => slot.energy);
  const pairs = Math.floor((s.replicas - (round % 2)) / 2);
  const swapped = exchange(slots, s.temps, round, swapRand, t.swaps);
  console.log(roundLine(round + 1, t.best.energy, energies, `${swapped}/${pairs}`));
  return slots;
}
