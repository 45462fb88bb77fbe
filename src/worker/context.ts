/**
 * The `ctx` argument every user function receives: which call it is, the extra arguments, a storage
 * handle and an AbortSignal fired on timeout or cancel.
 */
import type { StorageConfig } from '../storage/types.js';
import type { Storage } from '../storage/storage.js';
import { BurstError, ConfigError } from '../errors.js';
import { taskPrimitives } from '../primitives/endpoint.js';
import type { Primitives } from '../primitives/primitives.js';

/** The fields of {@link CallContext} that do not need the worker's state. */
export interface CallContextBase {
  callId: number;
  jobId: string;
  executorId: string;
  /** 1 on the first run of the call, 2 on its first retry, … */
  attempt: number;
  args: unknown;
}

/** What the user's function receives as its second argument. */
export interface CallContext<A = unknown> {
  /** The call's index in its job (its position among the inputs). */
  readonly callId: number;
  readonly jobId: string;
  readonly executorId: string;
  /** The `extraArgs` passed to `map` / `callAsync`. */
  readonly args: A;
  /** The executor's storage, for reading and writing data from inside the task. */
  readonly storage: Storage;
  /** Fired when the call times out or is cancelled; pass it on to fetch and other async work. */
  readonly signal: AbortSignal;
  /** 1 on the first run of the call, 2 on its first retry, … */
  readonly attempt: number;
  /**
   * The executor's queues, locks, counters, values, barriers and events, shared with the client and
   * the other tasks (`ctx.primitives.forJob(ctx.jobId)` for this job's own).
   * @throws ConfigError when the executor has none (a remote backend without `redis.url`)
   */
  readonly primitives: Primitives;
}

let storageModule: typeof import('../storage/storage.js') | undefined;

/** Loads the storage module once, so that `ctx.storage` can be built synchronously. */
export async function preloadStorage(): Promise<void> {
  storageModule ??= await import('../storage/storage.js');
}

const storages = new Map<string, Storage>();

/** Builds the context of one call; the storage handle is created on first use and shared by calls. */
export function createContext(
  base: CallContextBase,
  signal: AbortSignal,
  config: StorageConfig | undefined,
  bucket: string | undefined,
): CallContext {
  const ctx = { ...base, signal } as CallContext & { storage: Storage };
  let primitives: Primitives | undefined;
  Object.defineProperty(ctx, 'primitives', {
    enumerable: false,
    get: (): Primitives => (primitives ??= taskPrimitives(base.executorId, base)),
  });
  Object.defineProperty(ctx, 'storage', {
    enumerable: true,
    get(): Storage {
      if (!config)
        throw new ConfigError(
          `ctx.storage of call ${base.callId} of job ${base.jobId} is unavailable: this worker was started without a storage configuration (--storage-config or BURST_STORAGE_CONFIG)`,
          { keyPath: 'BURST_STORAGE_CONFIG', callId: base.callId, jobId: base.jobId },
        );
      if (!storageModule)
        throw new BurstError(
          'INTERNAL',
          `ctx.storage of call ${base.callId} of job ${base.jobId} was read before the worker loaded its storage module`,
          { callId: base.callId, jobId: base.jobId },
        );
      const id = JSON.stringify(config);
      let s = storages.get(id);
      if (!s) {
        s = new storageModule.Storage(config, bucket ? { defaultBucket: bucket } : {});
        storages.set(id, s);
      }
      return s;
    },
  });
  return ctx;
}
