/**
 * The risk analyst's workload: a Monte Carlo forecast of stock prices by geometric Brownian motion.
 * One call simulates `paths` price paths over `days` trading days from a seed, so the same seed gives
 * the same numbers on any backend.
 */

/** One call's work. */
export interface ForecastTask {
  /** Seed of this call's random stream (e.g. the call's index). */
  seed: number;
  /** Price paths simulated by this call. @default 100 */
  paths?: number;
  /** Trading days simulated. @default 1080 */
  days?: number;
  /** Starting price. @default 100 */
  s0?: number;
  /** Annual drift. @default 0.05 */
  mu?: number;
  /** Annual volatility. @default 0.2 */
  sigma?: number;
}

/** Prices of every path at mid-horizon and at the end. */
export interface ForecastResult {
  mid: Float64Array;
  final: Float64Array;
}

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; ample for a simulation of this size. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Simulates the task's paths and returns mid-horizon and final prices. */
export function forecast(task: ForecastTask | number): ForecastResult {
  const t = typeof task === 'number' ? { seed: task } : task;
  const paths = t.paths ?? 100;
  const days = t.days ?? 1080;
  const s0 = t.s0 ?? 100;
  const dt = 1 / 252;
  const drift = ((t.mu ?? 0.05) - 0.5 * (t.sigma ?? 0.2) ** 2) * dt;
  const vol = (t.sigma ?? 0.2) * Math.sqrt(dt);
  const rand = rng(t.seed * 2654435761 + 1);
  const mid = new Float64Array(paths);
  const final = new Float64Array(paths);
  const half = Math.floor(days / 2);
  for (let p = 0; p < paths; p++) {
    let logPrice = Math.log(s0);
    for (let d = 1; d <= days; d++) {
      // Box-Muller: one standard normal from two uniforms.
      const u1 = rand() || Number.MIN_VALUE;
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rand());
      logPrice += drift + vol * z;
      if (d === half) mid[p] = Math.exp(logPrice);
    }
    final[p] = Math.exp(logPrice);
  }
  return { mid, final };
}
