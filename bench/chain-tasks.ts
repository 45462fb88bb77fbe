/** Tasks of the chaining benchmarks (bench/chain-pipeline.ts, bench/chain-reduce.ts). */
import type { ReduceItem } from '../dist/index.js';

/** Stage one: `bytes` bytes derived from `i` (one result per call). */
export function produce(i: number, ctx: { args: { bytes: number } }): Uint8Array {
  return new Uint8Array(ctx.args.bytes).fill(i % 251);
}

/** Stage two: a small summary of stage one's result. */
export function summarize(b: Uint8Array): number {
  return b.length + (b[0] ?? 0);
}

/** Sleeps `ms`, then returns it. */
export async function sleepFor(ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
}

/** Reducer over an array: a fixed step of work per item. */
export async function reduceArray(
  xs: number[],
  ctx: { args: { stepMs: number } },
): Promise<{ sum: number; lastStepAt: number }> {
  let sum = 0;
  for (const x of xs) {
    await new Promise((r) => setTimeout(r, ctx.args.stepMs));
    sum += x;
  }
  return { sum, lastStepAt: Date.now() };
}

/** Streaming reducer: the same step per item, as items arrive. */
export async function reduceStream(
  items: AsyncIterable<ReduceItem<number>>,
  ctx: { args: { stepMs: number } },
): Promise<{ sum: number; lastStepAt: number }> {
  let sum = 0;
  for await (const { value } of items) {
    await new Promise((r) => setTimeout(r, ctx.args.stepMs));
    sum += value;
  }
  return { sum, lastStepAt: Date.now() };
}
