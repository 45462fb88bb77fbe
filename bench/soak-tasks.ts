/** The soak run's task: misbehaves at random, decided by (callId, attempt) so every run is the same. */
import { appendFileSync } from 'node:fs';
import type { CallContext } from '../dist/index.js';

function chance(callId: number, attempt: number): number {
  let h = (callId * 2654435761 + attempt * 40503) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0; // XOR gives a signed int: back to unsigned before scaling
  return h / 4294967296;
}

/** Appends `<callId> <attempt>` to `ctx.args.marker` first, so the soak counts executions, not results. */
export async function soakTask(
  x: number,
  ctx: CallContext<{ marker: string }>,
): Promise<{ id: number; attempt: number }> {
  appendFileSync(ctx.args.marker, `${ctx.callId} ${ctx.attempt}\n`);
  const r = chance(ctx.callId, ctx.attempt);
  if (r < 0.004) process.exit(7); // a crash
  if (r < 0.006) for (;;); // a hang, stopped by the timeout
  if (r < 0.02) throw new Error(`random failure of call ${ctx.callId}`);
  if (r < 0.03) await new Promise((res) => setTimeout(res, 20));
  return { id: x, attempt: ctx.attempt };
}
