/** Tasks of the scheduling benchmarks (bench/schedule.ts): a trivial call and a busy-wait of `ms`. */

export function trivial(x: number): number {
  return x + 1;
}

/** Keeps the CPU busy for `ms` of wall time (a sleep would not show a worker that is occupied). */
export function busy(ms: number): number {
  const end = performance.now() + ms;
  let _spins = 0;
  while (performance.now() < end) _spins++;
  return ms;
}
