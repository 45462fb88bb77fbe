/**
 * Per-map resources: the memory of a map's calls, and the opt-in retry of a call that ran out of
 * memory with more of it. Only backends that choose memory per invocation can grow it: localhost
 * (each worker process's heap limit) and Slurm (`--mem`, and the heap limit of the task's workers).
 */
import { ConfigError } from '../errors.js';
import { backendDefinitions } from '../backends/index.js';

/** Retry a call that failed with `OutOfMemoryError` with more memory. */
export interface OomRetry {
  /** The memory of the next attempt is the last one's times this. @default 2 */
  factor?: number;
  /** Never ask for more than this many MB; a call that runs out at this size fails. */
  maxMemory: number;
}

/** Backends whose memory is chosen per invocation (their definition's `memoryPerInvocation`). */
const growable = (): Set<string> =>
  new Set(
    backendDefinitions()
      .filter((d) => d.memoryPerInvocation)
      .map((d) => d.name),
  );

/** Checks a map's `runtimeMemory` and `oomRetry`; resolves `oomRetry` with its defaults. */
export function checkResources(
  o: { runtimeMemory?: unknown; oomRetry?: unknown },
  backend: string,
  executorMemoryMB: number | undefined,
): { runtimeMemoryMB?: number; oomRetry?: Required<OomRetry> } {
  const out: { runtimeMemoryMB?: number; oomRetry?: Required<OomRetry> } = {};
  if (o.runtimeMemory !== undefined) {
    if (!Number.isInteger(o.runtimeMemory) || (o.runtimeMemory as number) < 16)
      throw new ConfigError(
        `runtimeMemory must be an integer number of MB of at least 16, got ${JSON.stringify(o.runtimeMemory)}`,
        { keyPath: 'runtimeMemory' },
      );
    out.runtimeMemoryMB = o.runtimeMemory as number;
  }
  if (o.oomRetry === undefined) return out;
  const r = o.oomRetry as Partial<OomRetry> | null;
  if (typeof r !== 'object' || r === null)
    throw new ConfigError(`oomRetry must be an object { factor, maxMemory }, got ${JSON.stringify(r)}`, {
      keyPath: 'oomRetry',
    });
  const factor = r.factor ?? 2;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 1)
    throw new ConfigError(`oomRetry.factor must be a number greater than 1, got ${JSON.stringify(r.factor)}`, {
      keyPath: 'oomRetry.factor',
    });
  const base = out.runtimeMemoryMB ?? executorMemoryMB;
  if (base === undefined)
    throw new ConfigError(
      'oomRetry needs runtimeMemory (the memory of the first attempt), on the map or the executor',
      { keyPath: 'oomRetry' },
    );
  if (!Number.isInteger(r.maxMemory) || (r.maxMemory as number) <= base)
    throw new ConfigError(
      `oomRetry.maxMemory must be an integer number of MB above runtimeMemory (${base}), got ${JSON.stringify(r.maxMemory)}`,
      { keyPath: 'oomRetry.maxMemory' },
    );
  const GROWABLE = growable();
  if (!GROWABLE.has(backend)) {
    throw new ConfigError(
      `oomRetry is not supported on the ${backend} backend: its memory is fixed by the deployed runtime, not chosen per invocation (supported: ${[...GROWABLE].join(', ')})`,
      { keyPath: 'oomRetry', backend },
    );
  }
  out.oomRetry = { factor, maxMemory: r.maxMemory as number };
  out.runtimeMemoryMB = base;
  return out;
}

/** The memory of the attempt after an out-of-memory one, or undefined when it may not grow further. */
export function grownMemory(currentMB: number, retry: Required<OomRetry>): number | undefined {
  if (currentMB >= retry.maxMemory) return undefined;
  return Math.min(retry.maxMemory, Math.ceil(currentMB * retry.factor));
}
