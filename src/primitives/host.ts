/**
 * The client side of an executor's primitives: picks the store (Redis when `redis.url` is set, else
 * the client's memory on the localhost backend), serves the in-process store to local workers,
 * hands every job the endpoint its tasks use, and deletes the executor's primitives at `close()`.
 *
 * The in-process store's server listens only once a task needs it: a job whose workers can ask
 * (the localhost IPC channel) gets the endpoint before the server exists, and a worker asks its pool
 * to start it when a task first uses `ctx.primitives` (../worker/primitives-gate.ts). Other jobs get
 * a server that listens before they are submitted.
 */
import { ConfigError, PrimitiveError } from '../errors.js';
import { ENDPOINT_VARIABLE, executorPrefix, type PrimitivesEndpoint } from './endpoint.js';
import { type PlannedEndpoint, planLocalEndpoint } from './local-endpoint.js';
import { LocalStore } from './local-store.js';
import type { LocalServer } from './local-server.js';
import type { RedisOptions, PrimitivesMode } from './options.js';
import { Primitives } from './primitives.js';
import type { PrimitiveStore } from './store.js';

/** What the host needs to know of its executor. */
export interface PrimitivesSettings {
  mode: PrimitivesMode | undefined;
  redis: RedisOptions | undefined;
  /** The backend's name: only `localhost` can use the in-process store. */
  backend: string;
  executorId: string;
}

export class PrimitivesHost {
  private readonly mode: PrimitivesMode;
  private store: Promise<PrimitiveStore> | undefined;
  private local: LocalStore | undefined;
  private planned: PlannedEndpoint | undefined;
  private server: Promise<LocalServer> | undefined;
  private handle: Primitives | undefined;
  private closed = false;

  constructor(private readonly settings: PrimitivesSettings) {
    const url = settings.redis?.url;
    if (settings.mode === 'redis' && !url)
      throw new ConfigError('primitives: "redis" needs redis: { url } in the options (or BURST_REDIS_URL)', {
        keyPath: 'redis.url',
      });
    if (settings.mode === 'local' && settings.backend !== 'localhost')
      throw new ConfigError(
        `primitives: "local" keeps them in the client, which only the localhost backend's workers reach; the ${settings.backend} backend needs redis: { url } (or BURST_REDIS_URL)`,
        { keyPath: 'primitives' },
      );
    this.mode = settings.mode ?? (url ? 'redis' : settings.backend === 'localhost' ? 'local' : 'off');
  }

  /** The executor's primitives, for the client. */
  get primitives(): Primitives {
    if (this.mode === 'off')
      throw new ConfigError(
        this.settings.mode === 'off'
          ? 'the primitives are off (primitives: "off"); remove that option to use them'
          : `the ${this.settings.backend} backend's tasks cannot reach this client: queues, locks and the other primitives need Redis. Set redis: { url: 'redis://host:6379' } in the options (or BURST_REDIS_URL)`,
        { keyPath: 'redis.url' },
      );
    this.handle ??= new Primitives(() => this.open(), executorPrefix(this.settings.executorId));
    return this.handle;
  }

  /**
   * The variables every job gets so its tasks find the primitives (none when they are off). With
   * `onDemand` (a job whose workers call {@link serve} before they connect) the local server is not
   * started here.
   */
  async env(onDemand = false): Promise<Record<string, string>> {
    let endpoint: PrimitivesEndpoint;
    if (this.mode === 'off') return {};
    if (this.mode === 'redis') {
      const r = this.settings.redis as RedisOptions;
      endpoint = {
        kind: 'redis',
        url: (r.workerUrl ?? r.url) as string,
        ...(r.connectTimeoutMs ? { connectTimeoutMs: r.connectTimeoutMs } : {}),
      };
    } else {
      this.planned ??= planLocalEndpoint();
      if (!onDemand) await this.serve();
      endpoint = { kind: 'local', socket: this.planned.socket, token: this.planned.token };
    }
    return { [ENDPOINT_VARIABLE]: JSON.stringify(endpoint) };
  }

  /** Starts the in-process store's server at the planned endpoint, once (nothing to do for other stores). */
  serve(): Promise<void> {
    if (this.mode !== 'local') return Promise.resolve();
    if (this.closed)
      return Promise.reject(new PrimitiveError('PRIMITIVES_UNREACHABLE', "the client's executor is closed"));
    const plan = (this.planned ??= planLocalEndpoint());
    this.server ??= import('./local-server.js').then((m) => m.LocalServer.start(this.localStore(), plan));
    return this.server.then(() => undefined);
  }

  /** Deletes the executor's primitives and releases the server and connections. */
  async close(): Promise<void> {
    this.closed = true;
    const store = this.store;
    this.store = undefined;
    if (store) {
      const s = await store.catch(() => undefined);
      if (s) {
        await s.deletePrefix(executorPrefix(this.settings.executorId)).catch(() => undefined);
        await s.close().catch(() => undefined);
      }
    }
    const server = this.server;
    this.server = undefined;
    if (server) await (await server.catch(() => undefined))?.close();
    await this.local?.close();
  }

  private open(): Promise<PrimitiveStore> {
    if (!this.store) {
      if (this.mode === 'local') this.store = Promise.resolve(this.localStore());
      else {
        const r = this.settings.redis as RedisOptions;
        this.store = import('./redis-store.js').then((m) =>
          m.RedisStore.open({
            url: r.url as string,
            ...(r.connectTimeoutMs ? { connectTimeoutMs: r.connectTimeoutMs } : {}),
          }),
        );
        this.store.catch(() => (this.store = undefined));
      }
    }
    return this.store;
  }

  private localStore(): LocalStore {
    this.local ??= new LocalStore();
    return this.local;
  }
}
