/**
 * The {@link PrimitiveStore} on Redis (ioredis, loaded on first use). Blocking pops take a connection
 * of their own (BLPOP holds its connection), kept for reuse. Connecting is bounded: an unreachable
 * server fails with `PRIMITIVES_UNREACHABLE` naming its address, never a hang.
 */
import type { Redis as RedisClient } from 'ioredis';
import { PrimitiveError } from '../errors.js';
import type { PrimitiveStore } from './store.js';

/** Connection options of the Redis store. */
export interface RedisStoreOptions {
  url: string;
  /** Milliseconds to connect (and per command) before `PRIMITIVES_UNREACHABLE`. @default 5000 */
  connectTimeoutMs?: number;
}

const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
const EXTEND =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const ARRIVE = `local gen = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = redis.call('INCR', KEYS[1])
if n >= tonumber(ARGV[1]) then redis.call('SET', KEYS[1], 0); redis.call('INCR', KEYS[2]); return {gen, 1} end
return {gen, 0}`;

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: addresses in messages carry no password. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'redis (unparsable url)';
  }
}

export class RedisStore implements PrimitiveStore {
  readonly address: string;
  private readonly idle: RedisClient[] = [];
  private readonly busy = new Set<RedisClient>();

  private constructor(
    private readonly client: RedisClient,
    private readonly options: RedisStoreOptions,
  ) {
    this.address = redisAddress(options.url);
  }

  /** Connects; rejects with `PRIMITIVES_UNREACHABLE` within about `connectTimeoutMs`. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const client = await connectClient(options);
    return new RedisStore(client, options);
  }

  async push(key: string, value: Uint8Array): Promise<number> {
    return this.run(() => this.client.rpush(key, Buffer.from(value)));
  }

  async pop(key: string, timeoutMs: number | undefined, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    if (timeoutMs === 0) return (await this.run(() => this.client.lpopBuffer(key))) ?? undefined;
    const conn = this.idle.pop() ?? (await connectClient(this.options));
    this.busy.add(conn);
    const onAbort = (): void => conn.disconnect();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await conn.blpopBuffer(key, timeoutMs === undefined ? 0 : Math.max(timeoutMs, 1) / 1000);
      this.busy.delete(conn);
      this.idle.push(conn);
      return r?.[1];
    } catch (err) {
      this.busy.delete(conn);
      conn.disconnect();
      if (signal?.aborted) return undefined;
      throw this.failed(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async length(key: string): Promise<number> {
    return this.run(() => this.client.llen(key));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.run(() => this.client.getBuffer(key))) ?? undefined;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await this.run(() => this.client.set(key, Buffer.from(value)));
  }

  async incr(key: string, by: number): Promise<number> {
    return this.run(() => this.client.incrby(key, by));
  }

  async acquire(key: string, token: string, leaseMs: number): Promise<boolean> {
    return (await this.run(() => this.client.set(key, token, 'PX', leaseMs, 'NX'))) === 'OK';
  }

  async release(key: string, token: string): Promise<boolean> {
    return Number(await this.run(() => this.client.eval(RELEASE, 1, key, token))) === 1;
  }

  async extend(key: string, token: string, leaseMs: number): Promise<boolean> {
    return Number(await this.run(() => this.client.eval(EXTEND, 1, key, token, leaseMs))) === 1;
  }

  async arrive(key: string, parties: number): Promise<{ generation: number; last: boolean }> {
    const [generation, last] = (await this.run(() =>
      this.client.eval(ARRIVE, 2, `${key}:count`, `${key}:gen`, parties),
    )) as [number, number];
    return { generation: Number(generation), last: Number(last) === 1 };
  }

  async deletePrefix(prefix: string): Promise<number> {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await this.run(() => this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      if (keys.length > 0) n += await this.run(() => this.client.unlink(...keys));
    } while (cursor !== '0');
    return n;
  }

  async close(): Promise<void> {
    for (const c of [...this.idle, ...this.busy]) c.disconnect();
    this.idle.length = 0;
    this.busy.clear();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw this.failed(err);
    }
  }

  private failed(err: unknown): PrimitiveError {
    return new PrimitiveError(
      'PRIMITIVES_UNREACHABLE',
      `Redis at ${this.address} failed: ${(err as Error)?.message ?? String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** One connection, connected, or `PRIMITIVES_UNREACHABLE` naming the address within the timeout. */
async function connectClient(options: RedisStoreOptions): Promise<RedisClient> {
  const { Redis } = await import('ioredis');
  const ms = options.connectTimeoutMs ?? 5000;
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: ms,
    maxRetriesPerRequest: 1,
    // Reconnect a few times after a drop; the first connect fails once (bounded by the race below).
    retryStrategy: (times: number) => (times > 5 ? null : Math.min(times * 200, 1000)),
    enableOfflineQueue: true,
  });
  client.on('error', () => undefined); // surfaced by the commands that fail, not as an unhandled event
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          // internal: becomes the message of the PrimitiveError below
          () => reject(new Error(`no connection within ${ms / 1000} s`)),
          ms,
        );
      }),
    ]);
    return client;
  } catch (err) {
    client.disconnect();
    throw new PrimitiveError(
      'PRIMITIVES_UNREACHABLE',
      `Redis at ${redisAddress(options.url)} cannot be reached: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}
