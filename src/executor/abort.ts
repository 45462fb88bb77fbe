/** Turning an aborted AbortSignal into Burst's CancelledError (signal options of map, wait, getResult). */
import { CancelledError } from '../errors.js';

/** The CancelledError of an aborted signal, with the signal's reason as its cause. */
export function abortedError(
  what: string,
  signal: AbortSignal,
  context: { jobId?: string; executorId?: string; callId?: number } = {},
): CancelledError {
  return new CancelledError(`${what} was cancelled: its signal was aborted${reasonText(signal.reason)}`, {
    ...context,
    cause: signal.reason,
  });
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error && reason.name !== 'AbortError') return ` (${reason.message})`;
  if (typeof reason === 'string' && reason) return ` (${reason})`;
  return '';
}

/**
 * Races `work` against the signal: rejects with {@link abortedError} when it aborts (at once if it
 * has). The work itself goes on; only the wait stops.
 */
export function raceSignal<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
  context: { jobId?: string; executorId?: string } = {},
): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortedError(what, signal, context));
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(what, signal, context));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort as () => void));
}
