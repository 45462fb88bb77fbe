/** The `redis` and `primitives` options of an executor, and their checks. */
import { ConfigError } from '../errors.js';

/** Where the distributed primitives (queues, locks, …) keep their state when they use Redis. */
export interface RedisOptions {
  /** The server, e.g. `redis://:secret@10.0.0.5:6379/0` (`rediss://` for TLS). @default $BURST_REDIS_URL */
  url?: string;
  /**
   * The URL tasks use, when workers reach the server at another address than the client (a cluster's
   * internal address). @default `url`
   */
  workerUrl?: string;
  /** Milliseconds to connect before a `PrimitiveError` `PRIMITIVES_UNREACHABLE`. @default 5000 */
  connectTimeoutMs?: number;
}

/**
 * Which store the primitives use: `'redis'` (needs `redis.url`), `'local'` (the client's memory,
 * served to the localhost backend's workers over a Unix socket), or `'off'`.
 */
export type PrimitivesMode = 'redis' | 'local' | 'off';

/** Checks the `redis` section; throws a ConfigError naming the key at fault. */
export function checkRedisOptions(value: unknown): RedisOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`redis must be an object such as { url: 'redis://127.0.0.1:6379' }, got ${typeof value}`, {
      keyPath: 'redis',
    });
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!['url', 'workerUrl', 'connectTimeoutMs'].includes(key))
      throw new ConfigError(
        `unknown option "redis.${key}"; known: redis.url, redis.workerUrl, redis.connectTimeoutMs`,
        {
          keyPath: `redis.${key}`,
        },
      );
  for (const key of ['url', 'workerUrl'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !/^rediss?:\/\/./.test(v))
      throw new ConfigError(
        `redis.${key} must be a redis:// or rediss:// URL, got ${JSON.stringify(typeof v === 'string' ? v.replace(/\/\/[^@/]*@/, '//…@') : v)}`,
        {
          keyPath: `redis.${key}`,
        },
      );
  }
  const t = o.connectTimeoutMs;
  if (t !== undefined && (!Number.isInteger(t) || (t as number) < 1))
    throw new ConfigError(`redis.connectTimeoutMs must be a positive integer, got ${String(t)}`, {
      keyPath: 'redis.connectTimeoutMs',
    });
  return o as RedisOptions;
}

/** Checks `primitives`. */
export function checkPrimitivesMode(value: unknown): PrimitivesMode | undefined {
  if (value === undefined || value === 'redis' || value === 'local' || value === 'off') return value;
  throw new ConfigError(`primitives must be "redis", "local" or "off", got ${JSON.stringify(value)}`, {
    keyPath: 'primitives',
  });
}
