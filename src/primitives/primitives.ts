/**
 * The distributed primitives users see: {@link Queue}, {@link Lock}, {@link Counter}, {@link Value},
 * {@link Barrier} and {@link Event}, built on a {@link PrimitiveStore} (Redis or the client's
 * in-process store) and named per executor (`fexec.primitives`, `ctx.primitives`) or per job
 * (`.forJob(jobId)`). The same code runs in the client and inside tasks.
 */
import { deserialize, serialize } from 'node:v8';
import { randomBytes } from 'node:crypto';
import { ConfigError, PrimitiveError } from '../errors.js';
import type { PrimitiveStore } from './store.js';

/** Options of a timed wait. */
export interface WaitTimeout {
  /** Seconds to wait at most; then a `PrimitiveError` with code `PRIMITIVE_TIMEOUT`. @default no limit */
  timeout?: number;
}

const VALUE = 0;
const END = 1;

function encode(tag: number, value?: unknown): Uint8Array {
  const body = tag === VALUE ? serialize(value) : Buffer.alloc(0);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = tag;
  body.copy(out, 1);
  return out;
}

function decode(bytes: Uint8Array): { tag: number; value?: unknown } {
  const tag = bytes[0] ?? VALUE;
  return tag === VALUE
    ? { tag, value: deserialize(Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.length - 1)) }
    : { tag };
}

function timeoutMs(options: WaitTimeout | undefined, what: string): number | undefined {
  const t = options?.timeout;
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !(t >= 0) || !Number.isFinite(t))
    throw new ConfigError(`${what}: timeout must be a non-negative number of seconds, got ${String(t)}`, {
      keyPath: 'timeout',
    });
  return Math.round(t * 1000);
}

function timedOut(what: string, name: string, seconds: number | undefined): PrimitiveError {
  return new PrimitiveError('PRIMITIVE_TIMEOUT', `${what} did not succeed within ${seconds} s`, { primitive: name });
}

/** Polls `check` with a growing pause (5 ms up to 100 ms) until it is true or `ms` have passed. */
async function poll(check: () => Promise<boolean>, ms: number | undefined): Promise<boolean> {
  const deadline = ms === undefined ? Number.POSITIVE_INFINITY : Date.now() + ms;
  let pause = 5;
  for (;;) {
    if (await check()) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    pause = Math.min(pause * 2, 100);
  }
}

type StoreRef = () => Promise<PrimitiveStore>;

/** A FIFO queue shared by the client and every task: `put`, `get` (with a timeout), `for await`. */
export class Queue<T = unknown> implements AsyncIterable<T> {
  /** @internal */
  constructor(
    private readonly store: StoreRef,
    private readonly key: string,
    /** The name it was created with. */
    readonly name: string,
  ) {}

  /** Appends `value` (anything the structured clone can copy); resolves with the queue's length. */
  async put(value: T): Promise<number> {
    return (await this.store()).push(this.key, encode(VALUE, value));
  }

  /**
   * Removes and returns the oldest value, waiting for one (up to `timeout` seconds: then a
   * `PrimitiveError` `PRIMITIVE_TIMEOUT`). After `end()`, rejects with `PRIMITIVE_TIMEOUT` at once.
   */
  async get(options?: WaitTimeout): Promise<T> {
    const ms = timeoutMs(options, `queue "${this.name}".get`);
    const item = await this.next(ms);
    if (!item.done) return item.value;
    throw item.ended
      ? new PrimitiveError('PRIMITIVE_TIMEOUT', `queue "${this.name}" has ended: no more values`, {
          primitive: this.name,
        })
      : timedOut(`queue "${this.name}".get`, this.name, options?.timeout);
  }

  /** The oldest value, or `undefined` at once when the queue is empty. */
  async tryGet(): Promise<T | undefined> {
    const item = await this.next(0);
    return item.done ? undefined : item.value;
  }

  /** Values waiting in the queue. */
  async size(): Promise<number> {
    return (await this.store()).length(this.key);
  }

  /** Ends the queue: every `for await` over it stops once the values put before are taken. */
  async end(): Promise<void> {
    await (await this.store()).push(this.key, encode(END));
  }

  /** Yields values as they come, until `end()` (each consumer stops; the others too). */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const item = await this.next(undefined);
      if (item.done) return;
      yield item.value;
    }
  }

  private async next(ms: number | undefined): Promise<{ done: false; value: T } | { done: true; ended: boolean }> {
    const store = await this.store();
    const bytes = await store.pop(this.key, ms);
    if (bytes === undefined) return { done: true, ended: false };
    const { tag, value } = decode(bytes);
    if (tag === VALUE) return { done: false, value: value as T };
    // The end marker goes back to the front for the other consumers (and later gets).
    await store.push(this.key, bytes);
    return { done: true, ended: true };
  }
}

/** Options of {@link Primitives.lock}. */
export interface LockOptions {
  /**
   * Seconds a holder keeps the lock without renewing it. The holder renews it every third of this
   * while it runs, so only a holder that died (a killed task) loses it, after at most this long.
   * @default 10
   */
  leaseSeconds?: number;
}

/** A held lock; release it (or `await using held = await lock.acquire()`). */
export interface LockLease extends AsyncDisposable {
  /** Releases the lock. Rejects with `LOCK_NOT_HELD` when its lease had expired. */
  release(): Promise<void>;
}

/** A mutual-exclusion lock with a lease: a task killed while holding it does not block the others. */
export class Lock {
  private readonly leaseMs: number;

  /** @internal */
  constructor(
    private readonly store: StoreRef,
    private readonly key: string,
    readonly name: string,
    options: LockOptions = {},
  ) {
    const s = options.leaseSeconds ?? 10;
    if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s))
      throw new ConfigError(`lock "${name}": leaseSeconds must be a positive number, got ${String(s)}`, {
        keyPath: 'leaseSeconds',
      });
    this.leaseMs = Math.max(1, Math.round(s * 1000));
  }

  /** Waits for the lock (up to `timeout` seconds: then `PRIMITIVE_TIMEOUT`) and holds it. */
  async acquire(options?: WaitTimeout): Promise<LockLease> {
    const ms = timeoutMs(options, `lock "${this.name}".acquire`);
    const store = await this.store();
    const token = randomBytes(12).toString('hex');
    if (!(await poll(() => store.acquire(this.key, token, this.leaseMs), ms)))
      throw timedOut(`lock "${this.name}".acquire`, this.name, options?.timeout);
    const renew = setInterval(() => {
      void store.extend(this.key, token, this.leaseMs).catch(() => undefined);
    }, this.leaseMs / 3);
    renew.unref();
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      clearInterval(renew);
      if (!(await store.release(this.key, token)))
        throw new PrimitiveError('LOCK_NOT_HELD', `lock "${this.name}" was not held any more: its lease had expired`, {
          primitive: this.name,
        });
    };
    return { release, [Symbol.asyncDispose]: release };
  }

  /** Runs `fn` holding the lock, and releases it after (also when `fn` throws). */
  async withLock<R>(fn: () => R | Promise<R>, options?: WaitTimeout): Promise<R> {
    const held = await this.acquire(options);
    try {
      return await fn();
    } finally {
      await held.release();
    }
  }
}

/** An integer shared by everyone: `add` is atomic. */
export class Counter {
  /** @internal */
  constructor(
    private readonly store: StoreRef,
    private readonly key: string,
    readonly name: string,
  ) {}

  /** Adds `by` (default 1, may be negative); resolves with the new value. */
  async add(by = 1): Promise<number> {
    if (!Number.isSafeInteger(by))
      throw new ConfigError(`counter "${this.name}": add takes an integer, got ${String(by)}`, { keyPath: 'by' });
    return (await this.store()).incr(this.key, by);
  }

  /** The current value (0 when never set). */
  async get(): Promise<number> {
    return (await this.store()).incr(this.key, 0);
  }

  /** Sets the value. */
  async set(value: number): Promise<void> {
    if (!Number.isSafeInteger(value))
      throw new ConfigError(`counter "${this.name}": set takes an integer, got ${String(value)}`, { keyPath: 'value' });
    await (await this.store()).set(this.key, new TextEncoder().encode(String(value)));
  }
}

/** One value shared by everyone (last write wins). */
export class Value<T = unknown> {
  /** @internal */
  constructor(
    private readonly store: StoreRef,
    private readonly key: string,
    readonly name: string,
  ) {}

  /** The value, or `undefined` when never set. */
  async get(): Promise<T | undefined> {
    const bytes = await (await this.store()).get(this.key);
    return bytes === undefined ? undefined : (decode(bytes).value as T);
  }

  async set(value: T): Promise<void> {
    await (await this.store()).set(this.key, encode(VALUE, value));
  }
}

/** Lets `parties` participants wait for each other; reusable, one round after another. */
export class Barrier {
  /** @internal */
  constructor(
    private readonly store: StoreRef,
    private readonly key: string,
    readonly name: string,
    readonly parties: number,
  ) {
    if (!Number.isInteger(parties) || parties < 1)
      throw new ConfigError(`barrier "${name}": parties must be a positive integer, got ${String(parties)}`, {
        keyPath: 'parties',
      });
  }

  /** Waits until `parties` participants have called `wait` in this round; resolves with the round's number. */
  async wait(options?: WaitTimeout): Promise<number> {
    const ms = timeoutMs(options, `barrier "${this.name}".wait`);
    const store = await this.store();
    const { generation, last } = await store.arrive(this.key, this.parties);
    const gate = `${this.key}:release:${generation}`;
    if (last) {
      for (let i = 1; i < this.parties; i++) await store.push(gate, encode(END));
      return generation;
    }
    if ((await store.pop(gate, ms)) === undefined)
      throw timedOut(`barrier "${this.name}".wait`, this.name, options?.timeout);
    return generation;
  }
}

/** A flag tasks can wait on: `set`, `clear`, `isSet`, `wait`. */
export class Event {
  /** @internal */
  constructor(
    private readonly store: StoreRef,
    private readonly key: string,
    readonly name: string,
  ) {}

  async set(): Promise<void> {
    await (await this.store()).set(this.key, Uint8Array.of(1));
  }

  async clear(): Promise<void> {
    await (await this.store()).set(this.key, Uint8Array.of(0));
  }

  async isSet(): Promise<boolean> {
    return (await (await this.store()).get(this.key))?.[0] === 1;
  }

  /** Resolves once the event is set (up to `timeout` seconds: then `PRIMITIVE_TIMEOUT`). */
  async wait(options?: WaitTimeout): Promise<void> {
    const ms = timeoutMs(options, `event "${this.name}".wait`);
    if (!(await poll(() => this.isSet(), ms))) throw timedOut(`event "${this.name}".wait`, this.name, options?.timeout);
  }
}

/**
 * The primitives of one executor (or, through {@link Primitives.forJob}, of one job), by name: the
 * same name gives the same queue in the client and in every task.
 */
export class Primitives {
  /** @internal */
  constructor(
    private readonly store: StoreRef,
    /** The key prefix of this scope, e.g. `burst:<executorId>:`. */
    readonly prefix: string,
  ) {}

  queue<T = unknown>(name: string): Queue<T> {
    return new Queue<T>(this.store, this.key('q', name), name);
  }

  lock(name: string, options?: LockOptions): Lock {
    return new Lock(this.store, this.key('l', name), name, options);
  }

  counter(name: string): Counter {
    return new Counter(this.store, this.key('c', name), name);
  }

  value<T = unknown>(name: string): Value<T> {
    return new Value<T>(this.store, this.key('v', name), name);
  }

  barrier(name: string, parties: number): Barrier {
    return new Barrier(this.store, this.key('b', name), name, parties);
  }

  event(name: string): Event {
    return new Event(this.store, this.key('e', name), name);
  }

  /** The primitives named per job: deleted with the executor's, or by `clear()` on this scope. */
  forJob(jobId: string): Primitives {
    if (typeof jobId !== 'string' || !/^[\w.-]+$/.test(jobId))
      throw new ConfigError(`not a job id: ${JSON.stringify(jobId)}`, { keyPath: 'jobId' });
    return new Primitives(this.store, `${this.prefix}job:${jobId}:`);
  }

  /** Deletes every primitive of this scope (and of its jobs); resolves with how many keys. */
  async clear(): Promise<number> {
    return (await this.store()).deletePrefix(this.prefix);
  }

  /** Where the primitives live (`redis://…` or `local (pid N)`). */
  async address(): Promise<string> {
    return (await this.store()).address;
  }

  private key(kind: string, name: string): string {
    if (typeof name !== 'string' || name === '')
      throw new ConfigError(`a primitive's name must be a non-empty string, got ${JSON.stringify(name)}`, {
        keyPath: 'name',
      });
    return `${this.prefix}${kind}:${name}`;
  }
}
