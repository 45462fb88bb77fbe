/**
 * The executor's options, their defaults, and their validation. One `defaults` object; every option
 * is checked at construction with a message that names it and what it got.
 */
import {
  checkPrimitivesMode,
  checkRedisOptions,
  type PrimitivesMode,
  type RedisOptions,
} from '../primitives/options.js';
import { availableParallelism } from 'node:os';
import { insideWorker } from '../worker/self-resolve.js';
import { ConfigError } from '../errors.js';
import { nearestName } from '../nearest.js';
import { resolveSigningKey } from '../security/signing.js';
import type { ComputeBackend } from '../backends/types.js';
import { backendNames, type BackendOptionsMap } from '../backends/index.js';
import { isBackendSelection, type BackendSelection } from '../backends/definition.js';
import type { StorageDriver } from '../storage/types.js';
import type { StorageDriverOptions } from '../storage/storage.js';
import { storageDefinition, storageDrivers } from '../storage/registry.js';
import { validateStorageOptions } from '../storage/options.js';

/**
 * The backend sections of {@link ExecutorOptions}, one per registered backend (`slurm: {...}`,
 * `aws_lambda: {...}`), typed by {@link BackendOptionsMap}.
 */
export type BackendSections = { [K in keyof BackendOptionsMap]?: BackendOptionsMap[K] };

/** A registered backend chosen with its options, as the factories return it (`slurm({...})`). */
export type AnyBackendSelection = {
  [K in keyof BackendOptionsMap & string]: BackendSelection<K, BackendOptionsMap[K]>;
}[keyof BackendOptionsMap & string];

/** Options of `new FunctionExecutor(options)`. */
export interface ExecutorOptions extends BackendSections {
  /**
   * Where calls run: a backend with its options (`slurm({ partition: 'gpu' })`), a registered
   * backend name (its options then come from its section, e.g. `slurm: {...}`) or a backend instance.
   * @default 'localhost'
   */
  backend?: string | AnyBackendSelection | ComputeBackend;
  /**
   * Where Burst keeps functions, job data and results: a registered driver name or a driver instance.
   * @default 'fs' (local files under `~/.burst/storage`, or `BURST_FS_ROOT`)
   */
  storage?: string | StorageDriver;
  /**
   * The bucket for Burst's own data (bundles, job data, results).
   * @default 'burst'
   */
  bucket?: string;
  /**
   * Worker processes of the localhost backend.
   * @default os.availableParallelism(); 1 for an executor created inside a task (a nested map)
   */
  workers?: number;
  /**
   * Seconds each call may run before it is stopped with a TimeoutError.
   * @default 600
   */
  timeout?: number;
  /**
   * Times a failed call is run again (user exceptions, crashes, timeouts, out-of-memory).
   * @default 0
   */
  retries?: number;
  /**
   * Memory per worker in MB (the localhost heap limit; the memory request on clusters).
   * @default undefined (Node's default heap limit)
   */
  runtimeMemory?: number;
  /**
   * Length of the client lease in seconds: while it has jobs, the executor renews a lease object in
   * storage every third of this; jobs with calls left whose lease ran out are shown as abandoned.
   * @default 30
   */
  leaseSeconds?: number;
  /**
   * Path of a JSON config file whose keys are these options.
   * @default undefined
   */
  config?: string;
  /**
   * Show a progress bar on stderr for waits longer than about a second (only when stderr is a TTY).
   * @default true
   */
  progress?: boolean;
  /**
   * npm packages to leave out of function bundles; workers load them from their own node_modules.
   * @default []
   */
  external?: string[];
  /**
   * Secret shared with the workers: jobs are signed with it, and workers that have it run only jobs
   * signed with it (see the README's "Signed jobs"). Required by the knative, cloudrun and code_engine
   * backends unless their `signJobs` is false.
   * @default $BURST_SIGNING_KEY, else none
   */
  signingKey?: string;
  /** Options of other registered backends, by backend name. */
  backendOptions?: Record<string, Record<string, unknown>>;
  /**
   * The Redis server of the distributed primitives (`fexec.primitives`, `ctx.primitives`): queues,
   * locks, counters, barriers, events. Needed by every backend but localhost.
   * @default $BURST_REDIS_URL, else none
   */
  redis?: RedisOptions;
  /**
   * Where the primitives live: `'redis'`, `'local'` (the client's memory, for the localhost backend's
   * workers) or `'off'`.
   * @default 'redis' when `redis.url` is set, else 'local' on localhost, else none (a ConfigError on use)
   */
  primitives?: PrimitivesMode;
  /**
   * Reuse stored results of identical calls in every map (see the README's "Result cache"); a map's
   * own `cache` overrides it.
   * @default false
   */
  cache?: boolean;
  /**
   * Speculative backups of slow calls in every map (see the README's "Speculative backups"); a map's
   * own `speculative` overrides it.
   * @default false
   */
  speculative?: boolean | SpeculativeOptions;
}

/** Options of `speculative` (map or executor). `true` takes every default. */
export interface SpeculativeOptions {
  /** A call gets a backup once it has taken this many times the median time of the job's finished calls. @default 3 */
  factor?: number;
  /** Share of the job's calls (0 to 1) that must have finished before any backup starts. @default 0.75 */
  percentile?: number;
  /** A call gets no backup before it has taken this many seconds. @default 1 */
  minSeconds?: number;
  /**
   * Backups of a job running at once at most: a backup stops counting once its call settles, whichever
   * copy won (as Hadoop's `speculative-cap-running-tasks`). @default 10% of its calls, at least 1
   */
  maxBackups?: number;
}

/**
 * The storage sections of {@link ExecutorOptions} (`fs`, `s3`, …), typed with each driver's options and
 * their TSDoc; derived from `StorageDriverOptions`, which a third-party driver extends by declaration merging.
 */
export interface ExecutorOptions extends Partial<StorageDriverOptions> {}

/** The resolved options, every field present. */
export interface ResolvedOptions {
  backend: string | ComputeBackend;
  storage: string | StorageDriver;
  bucket: string;
  workers: number;
  timeout: number;
  retries: number;
  runtimeMemory: number | undefined;
  progress: boolean;
  external: string[];
  raw: Record<string, unknown>;
}

/** Default values of {@link ExecutorOptions}. */
export const defaults = {
  backend: 'localhost',
  storage: 'fs',
  bucket: 'burst',
  timeout: 600,
  retries: 0,
  progress: true,
  external: [] as string[],
} as const;

/** Top-level options besides the backend and storage sections (which come from the registries). */
const KNOWN_BASE = [
  'backend',
  'storage',
  'bucket',
  'workers',
  'timeout',
  'retries',
  'runtimeMemory',
  'leaseSeconds',
  'config',
  'progress',
  'external',
  'backendOptions',
  'signingKey',
  'redis',
  'primitives',
  'cache',
  'speculative',
];
const known = (): Set<string> => new Set([...KNOWN_BASE, ...backendNames(), ...storageDrivers()]);

/** Validates options and fills in defaults. Throws {@link ConfigError} naming the option at fault. */
export function resolveOptions(options: ExecutorOptions, fromFile: Record<string, unknown> = {}): ResolvedOptions {
  const o = { ...fromFile, ...stripUndefined(options) } as Record<string, unknown>;
  let backend = o.backend ?? defaults.backend;
  if (isBackendSelection(backend)) {
    // `backend: slurm({...})`: its options are laid over the `slurm` section.
    o[backend.name] = {
      ...(isObject(o[backend.name]) ? (o[backend.name] as object) : {}),
      ...(backend.options as object),
    };
    backend = o.backend = backend.name;
  }
  if (typeof backend !== 'string' && !isObject(backend))
    throw invalid('backend', 'a backend name or a backend instance', backend);
  const storage = o.storage ?? defaults.storage;
  if (typeof storage !== 'string' && !isObject(storage))
    throw invalid('storage', 'a storage driver name or a driver instance', storage);
  const bucket = o.bucket ?? defaults.bucket;
  if (typeof bucket !== 'string' || bucket.length === 0) throw invalid('bucket', 'a non-empty string', bucket);
  const workers = o.workers ?? (insideWorker() ? 1 : availableParallelism());
  if (!Number.isInteger(workers) || (workers as number) < 1) throw invalid('workers', 'a positive integer', workers);
  const timeout = o.timeout ?? defaults.timeout;
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout))
    throw invalid('timeout', 'a positive number of seconds', timeout);
  const retries = o.retries ?? defaults.retries;
  if (!Number.isInteger(retries) || (retries as number) < 0)
    throw invalid('retries', 'a non-negative integer', retries);
  const runtimeMemory = o.runtimeMemory;
  if (runtimeMemory !== undefined && (!Number.isInteger(runtimeMemory) || (runtimeMemory as number) < 16)) {
    throw invalid('runtimeMemory', 'an integer number of MB of at least 16', runtimeMemory);
  }
  const progress = o.progress ?? defaults.progress;
  if (typeof progress !== 'boolean') throw invalid('progress', 'a boolean', progress);
  const external = o.external ?? defaults.external;
  if (!Array.isArray(external) || !external.every((e) => typeof e === 'string'))
    throw invalid('external', 'an array of package names', external);
  resolveSigningKey(o.signingKey); // a set but empty or short key fails at construction
  checkRedisOptions(o.redis);
  checkPrimitivesMode(o.primitives);
  const KNOWN = known();
  for (const key of Object.keys(o)) {
    const storageDriver = storageDefinition(key); // a storage section (fs, s3, a registered driver's)
    if (storageDriver) validateStorageOptions(storageDriver, o[key], key);
    else if (!KNOWN.has(key)) throw new ConfigError(`unknown option "${key}"${nearest(key, KNOWN)}`, { keyPath: key });
  }
  return {
    backend: backend as string | ComputeBackend,
    storage: storage as string | StorageDriver,
    bucket,
    workers: workers as number,
    timeout,
    retries: retries as number,
    runtimeMemory: runtimeMemory as number | undefined,
    progress,
    external: external as string[],
    raw: o,
  };
}

/** Validates the per-call options of `map` and `callAsync`. */
export function checkCallOptions(opts: {
  timeout?: unknown;
  retries?: unknown;
  chunksize?: unknown;
  env?: unknown;
}): void {
  if (
    opts.timeout !== undefined &&
    (typeof opts.timeout !== 'number' || !(opts.timeout > 0) || !Number.isFinite(opts.timeout))
  ) {
    throw invalid('timeout', 'a positive number of seconds', opts.timeout);
  }
  if (opts.retries !== undefined && (!Number.isInteger(opts.retries) || (opts.retries as number) < 0))
    throw invalid('retries', 'a non-negative integer', opts.retries);
  if (opts.chunksize !== undefined && (!Number.isInteger(opts.chunksize) || (opts.chunksize as number) < 1))
    throw invalid('chunksize', 'a positive integer', opts.chunksize);
  if (
    opts.env !== undefined &&
    (!isObject(opts.env) || !Object.values(opts.env as object).every((v) => typeof v === 'string'))
  ) {
    throw invalid('env', 'an object of string values', opts.env);
  }
}

function nearest(key: string, KNOWN: Set<string>): string {
  const best = nearestName(key, KNOWN, 3);
  return best !== undefined ? `; did you mean "${best}"?` : `; known options: ${[...KNOWN].join(', ')}`;
}

function invalid(key: string, expected: string, got: unknown): ConfigError {
  return new ConfigError(`${key} must be ${expected}, got ${describe(got)}`, { keyPath: key });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function stripUndefined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
