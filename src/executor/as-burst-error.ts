/**
 * Anything thrown while reading a call's result, as a BurstError. Apart from ./settle.ts so that
 * ./future.ts can use it without reaching ./future-job.ts (which imports the Future class).
 */
import { BurstError, SerializationError } from '../errors.js';

/** `err` itself when it is a BurstError, else a SerializationError with `err` as its cause. */
export function asBurstError(
  err: unknown,
  context: { jobId: string; executorId: string; backend: string; callId?: number },
): BurstError {
  if (err instanceof BurstError) return err;
  const { callId, ...rest } = context;
  return new SerializationError((err as Error)?.message ?? String(err), {
    ...rest,
    ...(callId !== undefined ? { callId } : {}),
    cause: err,
  });
}
