/** Tasks of bench/speculative-backups.ts and bench/cache-rerun.ts. */
import type { CallContext } from '../src/index.ts';

/** Sleeps `ms` (20× for calls listed in `slow`, on their first attempt only), then returns its input. */
export async function sleepCall(x: number, ctx: CallContext<{ ms: number; slow: number[] }>): Promise<number> {
  const ms = ctx.attempt === 1 && ctx.args.slow.includes(ctx.callId) ? ctx.args.ms * 20 : ctx.args.ms;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
  return x;
}

/** Returns its input. */
export function trivial(x: number): number {
  return x;
}
