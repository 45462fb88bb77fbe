/**
 * Asynchronous Lambda invocations with bounded concurrency, used by the client backend and by the
 * worker function when it fans out a large map. The SDK's own retries are off (the client is built
 * with `maxAttempts: 1`): a retried `Invoke` whose first try was in fact accepted would run the
 * calls twice. Throttling is safe to retry (the request was refused) and is retried for as long as
 * it lasts, with jittered backoff; server errors are retried a bounded number of times.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CancelledError } from '../../../errors.js';

/** What {@link invokeAll} needs. */
export interface InvokeAllOptions {
  client: Pick<LambdaClient, 'send'>;
  /** The SDK's command class (passed in so that this module never imports the SDK itself). */
  InvokeCommand: typeof InvokeCommand;
  functionName: string;
  /** Invocations in flight at once. */
  concurrency: number;
  /** Stops sending; unsent payloads are reported as failed with the abort reason. */
  signal?: AbortSignal;
  /** First backoff after a throttle, in ms. @default 100 */
  baseDelayMs?: number;
  /** Longest backoff, in ms. @default 10000 */
  maxDelayMs?: number;
  /** Tries of one payload on server errors and dropped connections (throttling does not count). @default 3 */
  maxAttempts?: number;
  /** Counts what happened, for the backend's counters. */
  counters?: InvokeCounters;
}

/** Counters of {@link invokeAll} (a type, not an interface, so it is a `Record<string, number>`). */
export type InvokeCounters = {
  invokes: number;
  throttled: number;
  retried: number;
};

/** Why a payload was not invoked. */
export interface InvokeFailure {
  index: number;
  error: unknown;
}

/** Thrown when an invocation fails in a way that every other invocation would too. */
export class FatalInvokeError extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

interface Item {
  index: number;
  payload: string;
  throttles: number;
  failures: number;
}

/**
 * Sends every payload as an `Event` invocation. Resolves with the payloads that could not be sent
 * (after bounded retries of server errors, or on abort); throws {@link FatalInvokeError} on the
 * first error that is neither throttling nor transient (function not found, access denied, …).
 */
export async function invokeAll(payloads: readonly string[], o: InvokeAllOptions): Promise<InvokeFailure[]> {
  const queue: Item[] = payloads.map((payload, index) => ({ index, payload, throttles: 0, failures: 0 }));
  const failed: InvokeFailure[] = [];
  const base = o.baseDelayMs ?? 100;
  const cap = o.maxDelayMs ?? 10_000;
  const maxAttempts = o.maxAttempts ?? 3;
  let fatal: FatalInvokeError | undefined;
  const lane = async (): Promise<void> => {
    for (let item = queue.shift(); item && !fatal; item = queue.shift()) {
      if (o.signal?.aborted) {
        failed.push({ index: item.index, error: o.signal.reason });
        continue;
      }
      try {
        if (o.counters) o.counters.invokes++;
        await o.client.send(
          new o.InvokeCommand({
            FunctionName: o.functionName,
            InvocationType: 'Event',
            Payload: Buffer.from(item.payload),
          }),
          o.signal ? { abortSignal: o.signal } : {},
        );
      } catch (err) {
        const kind = classify(err);
        if (kind === 'fatal' && !o.signal?.aborted) {
          fatal = new FatalInvokeError(err);
          break;
        }
        if (kind === 'throttle') {
          item.throttles++;
          if (o.counters) o.counters.throttled++;
        } else if (++item.failures >= maxAttempts || o.signal?.aborted) {
          failed.push({ index: item.index, error: o.signal?.aborted ? o.signal.reason : err });
          continue;
        } else if (o.counters) o.counters.retried++;
        // Full jitter: spread the retries of many lanes instead of hitting the limit together again.
        const n = item.throttles + item.failures;
        const delay = Math.random() * Math.min(cap, base * 2 ** Math.min(n, 20));
        try {
          await sleep(delay, undefined, o.signal ? { signal: o.signal } : {});
        } catch {
          failed.push({ index: item.index, error: o.signal?.reason ?? err });
          continue;
        }
        queue.push(item); // re-queued behind the others
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, queue.length)) }, lane));
  if (fatal) throw fatal;
  // Items still queued when a fatal error stopped the lanes were never sent.
  for (const item of queue)
    failed.push({
      index: item.index,
      error:
        o.signal?.reason ??
        new CancelledError(`the invocation of ${o.functionName} was not sent: the invoker stopped first`),
    });
  return failed.sort((a, b) => a.index - b.index);
}

/** The error names Lambda uses for a refused-because-busy request. */
const THROTTLES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'EC2ThrottledException',
  'ResourceConflictException',
]);
/** Network errors after which the request surely or probably did not reach Lambda. */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'TimeoutError',
  'RequestTimeout',
]);

/** Whether an Invoke error is throttling, transient, or fatal. */
export function classify(err: unknown): 'throttle' | 'transient' | 'fatal' {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  if (status === 429 || THROTTLES.has(e?.name ?? '')) return 'throttle';
  if ((status !== undefined && status >= 500) || NETWORK.has(e?.code ?? '') || NETWORK.has(e?.name ?? ''))
    return 'transient';
  if (status === undefined && !e?.name?.endsWith('Exception')) return 'transient';
  return 'fatal';
}
