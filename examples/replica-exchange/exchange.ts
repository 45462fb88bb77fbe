/**
 * The client side of replica exchange: the temperature ladder and the swaps between neighbouring
 * temperatures after each round. Runs in the client process between two `map`s, so no replica ever
 * talks to another (the role MPI plays in a classic parallel tempering code).
 */

/** The state of one temperature slot between rounds. */
export interface Slot {
  coords: Int32Array;
  energy: number;
  /** Which replica (starting slot) this conformation descends from: it moves along the ladder. */
  replica: number;
}

/** Swap attempts and acceptances per neighbouring pair: index k is the pair (k, k + 1). */
export interface SwapCounts {
  attempted: number[];
  accepted: number[];
}

/** `count` temperatures from `min` to `max` in a geometric progression (the usual ladder). */
export function ladder(min: number, max: number, count: number): number[] {
  if (count === 1) return [min];
  return Array.from({ length: count }, (_, k) => min * (max / min) ** (k / (count - 1)));
}

/**
 * Tries to swap the conformations of neighbouring temperatures, pairs (0,1), (2,3), … after even
 * rounds and (1,2), (3,4), … after odd ones. A swap of slots i and j is accepted with probability
 * min(1, exp((1/T_i − 1/T_j)(E_i − E_j))), which keeps each temperature's ensemble in balance.
 * Mutates `slots` and `counts`; returns the number of swaps accepted.
 */
export function exchange(
  slots: Slot[],
  temps: readonly number[],
  round: number,
  rand: () => number,
  counts: SwapCounts,
): number {
  let accepted = 0;
  for (let k = round % 2; k + 1 < slots.length; k += 2) {
    const a = slots[k] as Slot;
    const b = slots[k + 1] as Slot;
    const delta = (1 / (temps[k] as number) - 1 / (temps[k + 1] as number)) * (a.energy - b.energy);
    counts.attempted[k] = (counts.attempted[k] ?? 0) + 1;
    // Draw a number for every pair, accepted or not, so the stream does not depend on the outcome.
    const u = rand();
    if (delta >= 0 || u < Math.exp(delta)) {
      slots[k] = b;
      slots[k + 1] = a;
      counts.accepted[k] = (counts.accepted[k] ?? 0) + 1;
      accepted++;
    }
  }
  return accepted;
}
