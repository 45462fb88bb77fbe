/**
 * Where a task finds its executor's primitives: the client puts an endpoint in every job's
 * environment (`BURST_PRIMITIVES_ENDPOINT`, JSON), and `ctx.primitives` opens it on first use, once
 * per worker process.
 */
import { ConfigError } from '../errors.js';
import { Primitives } from './primitives.js';
import type { PrimitiveStore } from './store.js';

/** The variable of a job's environment that carries the endpoint. */
export const ENDPOINT_VARIABLE = 'BURST_PRIMITIVES_ENDPOINT';

/** How a worker reaches the primitives. */
export type PrimitivesEndpoint =
  | { kind: 'local'; socket: string; token: string }
  | { kind: 'redis'; url: string; connectTimeoutMs?: number };

const stores = new Map<string, Promise<PrimitiveStore>>();
let beforeLocal: (() => Promise<void>) | undefined;

/**
 * Set by a worker of the client's pool: how it gets the client's server started before it connects
 * (the localhost IPC channel starts that server on demand, ../worker/primitives-gate.ts).
 */
export function beforeLocalConnect(ask: () => Promise<void>): void {
  beforeLocal = ask;
}

/** Opens (once per process and endpoint) the store an endpoint names. */
export function openEndpoint(endpoint: PrimitivesEndpoint): Promise<PrimitiveStore> {
  const id = JSON.stringify(endpoint);
  let store = stores.get(id);
  if (!store) {
    store =
      endpoint.kind === 'local'
        ? (beforeLocal?.() ?? Promise.resolve())
            .then(() => import('./socket-store.js'))
            .then((m) => m.SocketStore.open(endpoint))
        : import('./redis-store.js').then((m) =>
            m.RedisStore.open({
              url: endpoint.url,
              ...(endpoint.connectTimeoutMs ? { connectTimeoutMs: endpoint.connectTimeoutMs } : {}),
            }),
          );
    // A failed open is not cached: the next use tries again.
    store.catch(() => stores.delete(id));
    stores.set(id, store);
  }
  return store;
}

/** The prefix of an executor's primitives. */
export function executorPrefix(executorId: string): string {
  return `burst:${executorId}:`;
}

/**
 * The primitives of a task's executor, from its environment. Without an endpoint (a remote backend
 * and no Redis configured) a ConfigError says what to set.
 */
export function taskPrimitives(
  executorId: string,
  where: { callId: number; jobId: string },
  env: NodeJS.ProcessEnv = process.env,
): Primitives {
  const text = env[ENDPOINT_VARIABLE];
  if (!text)
    throw new ConfigError(
      `ctx.primitives of call ${where.callId} of job ${where.jobId} is unavailable: the executor has no primitives server. Set redis: { url } in its options (or BURST_REDIS_URL), or run on the localhost backend, whose client serves them itself`,
      { keyPath: 'redis.url', callId: where.callId, jobId: where.jobId },
    );
  let endpoint: PrimitivesEndpoint;
  try {
    endpoint = JSON.parse(text) as PrimitivesEndpoint;
  } catch (err) {
    throw new ConfigError(`${ENDPOINT_VARIABLE} is not JSON`, { keyPath: ENDPOINT_VARIABLE, cause: err });
  }
  return new Primitives(() => openEndpoint(endpoint), executorPrefix(executorId));
}
