/**
 * Workers outlive short storage outages: a write or read that fails because the store is unreachable
 * is tried again with backoff until a deadline, so results computed during an outage are not lost.
 */
import { BurstError } from '../errors.js';

/** How long a worker keeps trying to reach storage before giving up. @default 120 s */
export const STORAGE_PATIENCE_MS = Number(process.env.BURST_STORAGE_PATIENCE_MS ?? 120_000);

/** Errors worth waiting out: the store is unreachable or overloaded, not a bad request. */
function transient(err: unknown): boolean {
  if (err instanceof BurstError) return err.code === 'STORAGE_UNAVAILABLE';
  const code = (err as { code?: string })?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE';
}

/** Runs `op`, retrying transient storage failures with backoff until `patienceMs` has passed. */
export async function withPatience<T>(op: () => Promise<T>, patienceMs = STORAGE_PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await op();
    } catch (err) {
      if (!transient(err) || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
