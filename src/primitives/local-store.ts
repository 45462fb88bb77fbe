/**
 * The in-process {@link PrimitiveStore}: plain maps in the client. Worker processes on this machine
 * reach the same maps through ./local-server.ts, so a queue filled by one task is drained by another.
 */
import type { PrimitiveStore } from './store.js';

interface Waiter {
  resolve(value: Uint8Array | undefined): void;
  timer?: NodeJS.Timeout;
}

const text = new TextEncoder();
const untext = new TextDecoder();

/** Keeps every primitive in this process's memory. */
export class LocalStore implements PrimitiveStore {
  readonly address = `local (pid ${process.pid})`;
  private readonly lists = new Map<string, Uint8Array[]>();
  private readonly values = new Map<string, Uint8Array>();
  private readonly leases = new Map<string, { token: string; expires: number }>();
  private readonly waiters = new Map<string, Waiter[]>();

  async push(key: string, value: Uint8Array): Promise<number> {
    const queue = this.waiters.get(key);
    const waiter = queue?.shift();
    if (queue?.length === 0) this.waiters.delete(key);
    if (waiter) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve(value);
      return this.lists.get(key)?.length ?? 0;
    }
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = []));
    list.push(value);
    return list.length;
  }

  pop(key: string, timeoutMs: number | undefined, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const list = this.lists.get(key);
    if (list && list.length > 0) {
      const value = list.shift() as Uint8Array;
      if (list.length === 0) this.lists.delete(key);
      return Promise.resolve(value);
    }
    if (timeoutMs === 0 || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const giveUp = (): void => {
        if (waiter.timer) clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', giveUp);
        const queue = this.waiters.get(key) ?? [];
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0) this.waiters.delete(key);
        resolve(undefined);
      };
      const waiter: Waiter = {
        resolve: (value) => {
          signal?.removeEventListener('abort', giveUp);
          resolve(value);
        },
      };
      if (timeoutMs !== undefined) waiter.timer = setTimeout(giveUp, timeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      let queue = this.waiters.get(key);
      if (!queue) this.waiters.set(key, (queue = []));
      queue.push(waiter);
    });
  }

  async length(key: string): Promise<number> {
    return this.lists.get(key)?.length ?? 0;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.values.get(key);
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    this.values.set(key, value);
  }

  async incr(key: string, by: number): Promise<number> {
    const current = this.values.get(key);
    const next = (current ? Number(untext.decode(current)) : 0) + by;
    this.values.set(key, text.encode(String(next)));
    return next;
  }

  async acquire(key: string, token: string, leaseMs: number): Promise<boolean> {
    const held = this.leases.get(key);
    if (held && held.expires > Date.now()) return false;
    this.leases.set(key, { token, expires: Date.now() + leaseMs });
    return true;
  }

  async release(key: string, token: string): Promise<boolean> {
    const held = this.leases.get(key);
    if (!held || held.token !== token || held.expires <= Date.now()) return false;
    this.leases.delete(key);
    return true;
  }

  async extend(key: string, token: string, leaseMs: number): Promise<boolean> {
    const held = this.leases.get(key);
    if (!held || held.token !== token || held.expires <= Date.now()) return false;
    held.expires = Date.now() + leaseMs;
    return true;
  }

  async arrive(key: string, parties: number): Promise<{ generation: number; last: boolean }> {
    const generation = await this.incr(`${key}:gen`, 0);
    const count = await this.incr(`${key}:count`, 1);
    if (count < parties) return { generation, last: false };
    this.values.set(`${key}:count`, text.encode('0'));
    await this.incr(`${key}:gen`, 1);
    return { generation, last: true };
  }

  async deletePrefix(prefix: string): Promise<number> {
    let n = 0;
    for (const map of [this.lists, this.values, this.leases] as Array<Map<string, unknown>>)
      for (const key of [...map.keys()])
        if (key.startsWith(prefix)) {
          map.delete(key);
          n++;
        }
    // Waiters of deleted queues wake with nothing, as a timeout would.
    for (const [key, queue] of [...this.waiters])
      if (key.startsWith(prefix)) {
        this.waiters.delete(key);
        for (const w of queue) {
          if (w.timer) clearTimeout(w.timer);
          w.resolve(undefined);
        }
      }
    return n;
  }

  async close(): Promise<void> {
    await this.deletePrefix('');
  }
}
