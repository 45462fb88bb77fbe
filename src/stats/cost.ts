/**
 * Cost estimates per job from a price table per backend: a backend's definition carries its table
 * (`prices`). Backends on your own machines cost nothing extra (localhost, slurm); pay-per-use engines
 * bill GB-seconds and requests. Register or replace a table with {@link registerPrices}.
 */
import type { CallLike, CostEstimate } from './types.js';
import type { CallLocation } from '../worker/protocol.js';
import { backendDefinition, backendDefinitions } from '../backends/index.js';

/** How a backend bills. */
export interface PriceTable {
  /** ISO currency code. @default 'USD' */
  currency?: string;
  /** Price of one GB of memory for one second. */
  perGbSecond: number;
  /** Price of one invocation (each attempt counts). */
  perRequest: number;
  /** Billed duration is rounded up to a multiple of this many ms. @default 1 */
  granularityMs?: number;
  /** Memory assumed when the executor sets no `runtimeMemory`, in MB. @default 1024 */
  defaultMemoryMB?: number;
  /** Where the prices come from and what the estimate leaves out. */
  note: string;
  /**
   * The billed invocation a call ran in, from its stats' `location`, when one invocation runs several
   * calls side by side (AWS Lambda: the request id); such calls are billed once, for the invocation's
   * span. @default every call is its own invocation
   */
  invocationOf?(location: CallLocation | undefined): string | undefined;
}

/** Tables registered with {@link registerPrices}; they take precedence over the definitions' own. */
const tables = new Map<string, PriceTable>();

/** Registers (or replaces) the price table of a backend. */
export function registerPrices(backend: string, table: PriceTable): void {
  tables.set(backend, table);
}

/** Names of the backends with a price table. */
export function pricedBackends(): string[] {
  return [
    ...new Set([
      ...backendDefinitions()
        .filter((d) => d.prices)
        .map((d) => d.name),
      ...tables.keys(),
    ]),
  ];
}

/** The price table of a backend, if one is known. */
export function pricesOf(backend: string): PriceTable | undefined {
  return tables.get(backend) ?? backendDefinition(backend)?.prices;
}

/**
 * Estimates the cost of the calls on `backend`. A call is billed from its worker's start when it was
 * a cold start (the engine bills the init), else from its function start, to its function end. Calls
 * whose table names their invocation (`invocationOf`, as AWS Lambda's does) are billed per invocation
 * (one request, from its worker's start to its last call's end). Returns undefined when the backend has no price table.
 */
export function estimateCost(
  calls: readonly CallLike[],
  options: { backend: string; memoryMB?: number | undefined; prices?: PriceTable },
): CostEstimate | undefined {
  const table = options.prices ?? pricesOf(options.backend);
  if (!table) return undefined;
  const invocationOf = table.invocationOf ?? pricesOf(options.backend)?.invocationOf;
  const granularity = table.granularityMs ?? 1;
  const gb = (options.memoryMB ?? table.defaultMemoryMB ?? 1024) / 1024;
  let ms = 0;
  let invocations = 0;
  // Calls that name their invocation (Lambda: a chunk of calls is one request) are billed for the
  // invocation's span (its calls run side by side), not for the sum of its calls.
  const spans = new Map<string, { from: number; to: number }>();
  for (const c of calls) {
    const s = c.stats;
    if (s.fnStart === undefined && s.fnEnd === undefined) continue;
    const request = invocationOf?.(s.location);
    if (request !== undefined && s.workerStart !== undefined && s.fnEnd !== undefined) {
      const span = spans.get(request);
      spans.set(request, {
        from: Math.min(span?.from ?? Infinity, s.workerStart),
        to: Math.max(span?.to ?? -Infinity, s.fnEnd),
      });
      continue;
    }
    invocations += s.attempt ?? 1;
    const from = s.cold && s.workerStart !== undefined ? s.workerStart : s.fnStart;
    if (from !== undefined && s.fnEnd !== undefined && s.fnEnd >= from)
      ms += Math.ceil(Math.max(1, s.fnEnd - from) / granularity) * granularity;
  }
  for (const { from, to } of spans.values()) {
    invocations++;
    ms += Math.ceil(Math.max(1, to - from) / granularity) * granularity;
  }
  const gbSeconds = (ms / 1000) * gb;
  const compute = gbSeconds * table.perGbSecond;
  const requests = invocations * table.perRequest;
  return {
    backend: options.backend,
    currency: table.currency ?? 'USD',
    total: compute + requests,
    compute,
    requests,
    gbSeconds,
    invocations,
    note: table.note,
  };
}
