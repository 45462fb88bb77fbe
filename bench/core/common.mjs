/**
 * Shared by the contender scripts: arguments, the checksum every contender prints (so the harness
 * can verify they computed the same thing) and the client's peak RSS.
 * Usage of every contender: node <contender>.mjs <kernel: addSeven|gbm> <n> [start]
 */
import kernels from './kernels.cjs';

export const kernelName = process.argv[2] ?? 'addSeven';
export const kernel = kernels[kernelName];
if (typeof kernel !== 'function') throw new TypeError(`unknown kernel ${kernelName}`);
const end = Number(process.argv[3] ?? 1000);
const start = Number(process.argv[4] ?? 0);
export const threads = Number(process.env.BENCH_THREADS ?? 0) || (await import('node:os')).availableParallelism();
export const kernelFile = new URL('./kernels.cjs', import.meta.url).pathname;

/** The inputs: the task indices start..end-1 (seeds of gbm, operands of addSeven). */
export function inputs() {
  const out = new Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = i;
  return out;
}

/** Prints {check, n, maxRssMB}: check is an exact integer sum over the results, in any order. */
export function report(results) {
  let check = 0;
  for (const r of results) check += typeof r === 'number' ? r : r.above + Math.round(r.mean * 1e6);
  process.stdout.write(
    `${JSON.stringify({ check, n: results.length, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
  );
}
