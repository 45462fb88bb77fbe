/**
 * The `ctx` argument every user function receives: which call it is, the extra arguments, a storage
 * handle and an AbortSignal fired on timeout or cancel.
 */
import type { StorageConfig } from '../storage/types.js';
import type { Storage } from '../storage/storage.js';
import { BurstError, ConfigError } from '../errors.js';
import { taskPrimitives } from '../primitives/endpoint.js';
import type { Primitives } from '../primitives/primitives.js';

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

/** Fires a call's abort signal (set by {@link Context}: the ctx itself has no public method for it). */
let fire: (ctx: Context, reason: unknown) => void;

/**
 * The context of one call: its storage handle and primitives are made on first use, and so is its
 * abort signal: most calls never read it, and an AbortController per call costs more than a trivial
 * call itself. One object per call, which a large map of short calls makes 10^5 times (issue 16).
 */
class Context implements CallContext {
  readonly callId: number;
  readonly jobId: string;
  readonly executorId: string;
  readonly attempt: number;
  readonly args: unknown;
  // Private (#) so that logging or serializing a ctx shows neither the storage configuration nor internals.
  readonly #config: StorageConfig | undefined;
  readonly #bucket: string | undefined;
  #primitives: Primitives | undefined;
  #controller: AbortController | undefined;
  #fired = false;
  #reason: unknown;

  static {
    fire = (ctx, reason) => {
      if (ctx.#fired) return;
      ctx.#fired = true;
      ctx.#reason = reason;
      ctx.#controller?.abort(reason);
    };
  }

  constructor(
    callId: number,
    jobId: string,
    executorId: string,
    attempt: number,
    args: unknown,
    config: StorageConfig | undefined,
    bucket: string | undefined,
  ) {
    this.#config = config;
    this.#bucket = bucket;
    this.callId = callId;
    this.jobId = jobId;
    this.executorId = executorId;
    this.attempt = attempt;
    this.args = args;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#fired) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get primitives(): Primitives {
    this.#primitives ??= taskPrimitives(this.executorId, { callId: this.callId, jobId: this.jobId });
    return this.#primitives;
  }

  get storage(): Storage {
    const config = this.#config;
    const { callId, jobId } = this;
    if (!config)
      throw new ConfigError(
        `ctx.storage of call ${callId} of job ${jobId} is unavailable: this worker was started without a storage configuration (--storage-config or BURST_STORAGE_CONFIG)`,
        { keyPath: 'BURST_STORAGE_CONFIG', callId, jobId },
      );
    if (!storageModule)
      throw new BurstError(
        'INTERNAL',
        `ctx.storage of call ${callId} of job ${jobId} was read before the worker loaded its storage module`,
        { callId, jobId },
      );
    const id = JSON.stringify(config);
    let s = storages.get(id);
    if (!s) {
      s = new storageModule.Storage(config, this.#bucket ? { defaultBucket: this.#bucket } : {});
      storages.set(id, s);
    }
    return s;
  }
}

/** Builds the context of one call; the storage handle is created on first use and shared by calls. */
export function createContext(
  callId: number,
  jobId: string,
  executorId: string,
  attempt: number,
  args: unknown,
  config: StorageConfig | undefined,
  bucket: string | undefined,
): CallContext {
  return new Context(callId, jobId, executorId, attempt, args, config, bucket);
}

/** Fires the abort signal of the call `ctx` belongs to (once; later calls do nothing). */
export function abortCall(ctx: CallContext, reason: unknown): void {
  fire(ctx as Context, reason);
}
