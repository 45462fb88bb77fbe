/**
 * The few atomic operations every primitive is built from, so that one set of classes (./primitives.ts)
 * runs on Redis (./redis-store.ts) and on the client's in-process store (./local-store.ts, reached from
 * worker processes through ./socket-store.ts). Keys are full names (namespaced by the caller); values
 * are bytes (a v8 structured clone, or a decimal string for counters).
 */

/** One implementation of the primitives' storage. */
export interface PrimitiveStore {
  /** Where it is, for error messages: `redis://host:port` or `local (pid N)`. */
  readonly address: string;
  /** Appends to the list `key`; resolves with its new length. */
  push(key: string, value: Uint8Array): Promise<number>;
  /**
   * Removes and returns the first item of list `key`, waiting up to `timeoutMs` for one (`0`: do not
   * wait; `undefined`: wait forever). Resolves `undefined` when the time ran out or `signal` aborted
   * (a waiter that went away must not take a value).
   */
  pop(key: string, timeoutMs: number | undefined, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** Items in list `key`. */
  length(key: string): Promise<number>;
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array): Promise<void>;
  /** Adds `by` to the integer at `key` (0 when absent); resolves with the new value. */
  incr(key: string, by: number): Promise<number>;
  /** Sets `key` to `token` for `leaseMs` if it is absent (or its lease expired); true when it did. */
  acquire(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Deletes `key` if it still holds `token`; true when it did. */
  release(key: string, token: string): Promise<boolean>;
  /** Renews the lease of `key` if it still holds `token`; true when it did. */
  extend(key: string, token: string, leaseMs: number): Promise<boolean>;
  /**
   * One party arrives at the barrier `key` of `parties`: resolves with the generation it waits in and
   * whether it was the last (the count then starts over for the next generation).
   */
  arrive(key: string, parties: number): Promise<{ generation: number; last: boolean }>;
  /** Deletes every key that starts with `prefix`; resolves with how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Releases connections (a store made by the caller). */
  close(): Promise<void>;
}
