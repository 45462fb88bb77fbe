/**
 * The kernels every contender of the core benchmark runs, from this one file (CommonJS so that
 * faast.js local mode, piscina, plain node and Burst can all load it unchanged).
 *
 * gbm: geometric Brownian motion in the style of faast.js' Monte Carlo benchmark: 100 paths of 1,080
 * daily steps, normals from Box–Muller with the spare value reused, a seeded PRNG so every contender
 * computes the same numbers. Returns a small summary so that transport does not dominate.
 */
'use strict';

function addSeven(x) {
  return x + 7;
}

function gbm(seed) {
  let a = (seed * 2654435761 + 1) >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = 0;
  let hasSpare = false;
  const normal = () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const u = rand() || Number.MIN_VALUE;
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * rand();
    spare = r * Math.sin(theta);
    hasSpare = true;
    return r * Math.cos(theta);
  };
  const paths = 100;
  const days = 1080;
  const dt = 1 / 252;
  const mu = 0.05;
  const sigma = 0.2;
  const drift = (mu - 0.5 * sigma * sigma) * dt;
  const vol = sigma * Math.sqrt(dt);
  let sum = 0;
  let above = 0;
  for (let p = 0; p < paths; p++) {
    let logPrice = Math.log(100);
    for (let d = 0; d < days; d++) logPrice += drift + vol * normal();
    const price = Math.exp(logPrice);
    sum += price;
    if (price > 100) above++;
  }
  return { mean: sum / paths, above };
}

module.exports = { addSeven, gbm };
