/**
 * Runtimes of the Cloud Run backend: the worker image (built and pushed with docker or podman, see
 * image-build.ts) and a Cloud Run service running it, created or updated through the Cloud Run Admin
 * API v2 with the official `@google-cloud/run` client, loaded only by deploy, list and delete. Services
 * Burst creates carry the label `burst-managed=true`; list and delete touch no other, and deploy
 * refuses to replace a service without it.
 *
 * Credentials are Google's Application Default Credentials (`gcloud auth application-default login`,
 * GOOGLE_APPLICATION_CREDENTIALS, or the metadata server). No IAM binding is added: the service keeps
 * requiring authentication (gcloud's `--no-allow-unauthenticated`).
 */
import { execFile } from 'node:child_process';
import type { protos } from '@google-cloud/run';
import { onPath } from '../on-path.js';
import { BurstError, ConfigError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { buildAndPush, buildRuntimeImage, type ImageTools } from '../../runtime/image-build.js';
import {
  positiveOption,
  serviceName,
  workerEnvironment,
  type ServiceNameRule,
  type ServiceRuntimeOptions,
  type WorkerDeployContext,
} from '../../runtime/service-options.js';
import type { RuntimeCommandOptions, RuntimeInfo, RuntimeManager } from '../../runtime/types.js';
import { importOptional } from '../../runtime/optional-package.js';

/** Runtime options of the `cloudrun` section (beside the backend's `url`, `idToken`, …). */
export interface CloudRunRuntimeOptions extends ServiceRuntimeOptions {
  /** Google Cloud project ID. @default $GOOGLE_CLOUD_PROJECT, $GCLOUD_PROJECT, $CLOUDSDK_CORE_PROJECT or `gcloud config get-value project` */
  project?: string;
  /** Cloud Run region, e.g. `europe-west1`. @default $CLOUDSDK_RUN_REGION or `gcloud config get-value run/region` */
  region?: string;
  /** vCPUs per instance; raised to the least Cloud Run allows for the instance's memory. @default 1 */
  cpu?: number;
  /** The service account the workers run as. @default the project's default compute service account */
  serviceAccount?: string;
}

/** A condition of a Cloud Run service (`terminalCondition`). `state` is a name, or a number from a raw response. */
export interface CloudRunCondition {
  type?: string | null;
  state?: string | number | null;
  message?: string | null;
}

/** A container of a revision template, as Burst writes and reads it. */
export interface CloudRunContainer {
  image?: string | null;
  ports?: { containerPort?: number | null }[] | null;
  env?:
    | {
        name?: string | null;
        value?: string | null;
        valueSource?: { secretKeyRef?: { secret?: string | null; version?: string | null } | null } | null;
      }[]
    | null;
  resources?: { limits?: Record<string, string> | null } | null;
  startupProbe?: { httpGet?: { path?: string | null } | null } | null;
}

/** A Cloud Run service (Admin API v2 `Service`), the fields Burst writes and reads. */
export interface CloudRunService {
  /** `projects/{project}/locations/{region}/services/{id}`. */
  name?: string | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  etag?: string | null;
  uri?: string | null;
  terminalCondition?: CloudRunCondition | null;
  traffic?: { type?: string | null; percent?: number | null }[] | null;
  template?: {
    containers?: CloudRunContainer[] | null;
    maxInstanceRequestConcurrency?: number | null;
    /** A protobuf Duration, as the client takes it (JSON `"3600s"` on the wire). */
    timeout?: { seconds?: number | string | null } | null;
    serviceAccount?: string | null;
    scaling?: { minInstanceCount?: number | null; maxInstanceCount?: number | null } | null;
  } | null;
}

/** The Cloud Run Admin API calls Burst makes; create, update and remove wait for their long-running operation. */
export interface CloudRunApi {
  /** The service, or undefined when there is none of that name. */
  get(name: string): Promise<CloudRunService | undefined>;
  create(parent: string, serviceId: string, service: CloudRunService): Promise<CloudRunService>;
  update(service: CloudRunService): Promise<CloudRunService>;
  list(parent: string): Promise<CloudRunService[]>;
  remove(name: string): Promise<void>;
  /** Releases the client's connections. */
  close?(): Promise<void>;
}

/** What the manager needs from outside; tests replace them. */
export interface CloudRunRuntimeDeps extends ImageTools {
  /** The API client; by default the official `@google-cloud/run` ServicesClient over REST. */
  api?: (clientOptions: Record<string, unknown>) => Promise<CloudRunApi>;
  /** Extra options of the ServicesClient (tests point it at a local server with `apiEndpoint`, `port`, `protocol`, `authClient`). */
  clientOptions?: Record<string, unknown>;
  /** Reads a gcloud setting (`project`, `run/region`); undefined when unset or gcloud is missing. */
  gcloudConfig?: (key: string) => Promise<string | undefined>;
}

/** The label on every service Burst creates. */
export const CLOUDRUN_MANAGED_LABEL = 'burst-managed';
/** What Cloud Run accepts as a service ID. */
const NAME: ServiceNameRule = { label: 'Cloud Run service', maxLength: 49, backend: 'cloudrun' };
const VERSION_LABEL = 'burst-version';
const VERSION_ANNOTATION = 'burst.dev/version';
const WAIT_MS = 600_000;

/** Creates the Cloud Run runtime manager; `deps` replace the API client, gcloud and the image tools in tests. */
export function cloudRunRuntimeManager(deps: CloudRunRuntimeDeps = {}): RuntimeManager {
  const section = (o: RuntimeCommandOptions): CloudRunRuntimeOptions => o.backendOptions as CloudRunRuntimeOptions;
  const gcloudConfig = deps.gcloudConfig ?? readGcloudConfig;
  const connect = (): Promise<CloudRunApi> => (deps.api ?? servicesClient)(deps.clientOptions ?? {});
  const withApi = async <T>(use: (api: CloudRunApi) => Promise<T>): Promise<T> => {
    const api = await call('finding Google Cloud credentials', connect);
    try {
      return await use(api);
    } finally {
      await api.close?.();
    }
  };

  return {
    async build(o) {
      const k = section(o);
      return buildRuntimeImage(k, o, deps);
    },

    async deploy(o) {
      const k = section(o);
      const id = serviceName(o.name, NAME);
      if (!k.image)
        throw new ConfigError(
          'cloudrun.image must name an image in a registry Cloud Run pulls from (e.g. "europe-docker.pkg.dev/my-project/burst/burst-worker:0.1.0")',
          { keyPath: 'cloudrun.image', backend: 'cloudrun' },
        );
      const parent = await location(k, gcloudConfig);
      const worker = { ...(o.bucket ? { bucket: o.bucket } : {}), ...(o.storage ? { storage: o.storage } : {}) };
      cloudRunService(k.image, k, o.memoryMB, worker); // checks the options before building
      const image = await buildAndPush(k.image, k, o, deps);
      const body = cloudRunService(image, k, o.memoryMB, worker);
      return withApi(async (api) => {
        const name = `${parent}/services/${id}`;
        const existing = await call(`reading Cloud Run service ${name}`, () => api.get(name));
        let deployed: CloudRunService;
        if (existing) {
          if (!isBurstService(existing)) {
            throw new ConfigError(
              `the Cloud Run service ${name} exists and was not created by Burst (no ${CLOUDRUN_MANAGED_LABEL}=true label); pick another runtime name`,
              { keyPath: 'cloudrun', backend: 'cloudrun' },
            );
          }
          o.log(`updating Cloud Run service ${id} in ${parent} (waiting until it is ready)`);
          // Keep labels others added; the etag makes a concurrent change fail instead of being overwritten.
          const update = {
            ...body,
            name,
            labels: { ...(existing.labels ?? {}), ...body.labels },
            ...(existing.etag ? { etag: existing.etag } : {}),
          };
          deployed = await call(`updating Cloud Run service ${name}`, () => api.update(update));
        } else {
          o.log(`creating Cloud Run service ${id} in ${parent} (waiting until it is ready)`);
          deployed = await call(`creating Cloud Run service ${name}`, () => api.create(parent, id, body));
        }
        const state = conditionState(deployed.terminalCondition?.state);
        if (state === 'CONDITION_FAILED') {
          throw new BurstError(
            'RUNTIME_DEPLOY',
            `Cloud Run service ${name} is not ready: ${deployed.terminalCondition?.message || 'no reason given'}`,
            { backend: 'cloudrun' },
          );
        }
        if (state !== 'CONDITION_SUCCEEDED')
          o.log(
            `Cloud Run service ${id} is not ready yet (${deployed.terminalCondition?.message || state}); check "gcloud run services describe ${id} --region ${regionOf(parent)}"`,
          );
        if (deployed.uri) o.log(`put this URL in cloudrun.url: ${deployed.uri}`);
        return info({ ...deployed, name }, o.memoryMB);
      });
    },

    async list(o) {
      const parent = await location(section(o), gcloudConfig);
      return withApi(async (api) =>
        (await call(`listing Cloud Run services in ${parent}`, () => api.list(parent)))
          .filter(isBurstService)
          .map((s) => info(s)),
      );
    },

    async delete(o) {
      const parent = await location(section(o), gcloudConfig);
      return withApi(async (api) => {
        let names: string[];
        if (o.name) {
          const name = `${parent}/services/${serviceName(o.name, NAME)}`;
          const existing = await call(`reading Cloud Run service ${name}`, () => api.get(name));
          if (!existing) return [];
          if (!isBurstService(existing)) {
            throw new ConfigError(
              `the Cloud Run service ${name} was not created by Burst (no ${CLOUDRUN_MANAGED_LABEL}=true label); not deleting it`,
              { keyPath: 'cloudrun', backend: 'cloudrun' },
            );
          }
          names = [name];
        } else {
          names = (await call(`listing Cloud Run services in ${parent}`, () => api.list(parent)))
            .filter(isBurstService)
            .map((s) => s.name ?? '')
            .filter(Boolean);
        }
        for (const name of names) {
          o.log(`deleting Cloud Run service ${shortName(name)}`);
          await call(`deleting Cloud Run service ${name}`, () => api.remove(name));
        }
        return names.map(shortName);
      });
    },
  };
}

/** The manager `burst runtime … --backend cloudrun` uses. */
export const cloudRunRuntimes: RuntimeManager = cloudRunRuntimeManager();

/**
 * The service Burst deploys: the worker image on port 8080 with `containerConcurrency` slots, labelled
 * `burst-managed=true`, all traffic on the latest revision.
 */
export function cloudRunService(
  image: string,
  k: CloudRunRuntimeOptions,
  memoryMB: number | undefined,
  worker: WorkerDeployContext,
): CloudRunService & { labels: Record<string, string> } {
  const concurrency = positiveOption(k.containerConcurrency ?? 4, 'cloudrun.containerConcurrency', 'cloudrun');
  // Each request runs its calls in a worker process of up to memoryMB, so an instance needs that per slot.
  const memoryMi = (memoryMB ?? 512) * concurrency + 256;
  const timeout = positiveOption(k.timeoutSeconds ?? 3600, 'cloudrun.timeoutSeconds', 'cloudrun');
  if (timeout > 3600)
    throw new ConfigError(`cloudrun.timeoutSeconds is at most 3600 on Cloud Run, got ${timeout}`, {
      keyPath: 'cloudrun.timeoutSeconds',
      backend: 'cloudrun',
    });
  const env: CloudRunContainer['env'] = [
    { name: 'BURST_SERVE_CONCURRENCY', value: String(concurrency) },
    ...Object.entries(k.env ?? {}).map(([name, value]) => ({ name, value })),
    // Secret Manager secrets hold one value each: the key names nothing here.
    ...workerEnvironment(k, worker, 'cloudrun').map((v) =>
      'secret' in v ? { name: v.name, valueSource: { secretKeyRef: { secret: v.secret, version: 'latest' } } } : v,
    ),
  ];
  const scaling = {
    ...(k.minScale !== undefined ? { minInstanceCount: k.minScale } : {}),
    ...(k.maxScale !== undefined ? { maxInstanceCount: k.maxScale } : {}),
  };
  return {
    // Label values allow no dots, so the exact version also goes in an annotation.
    labels: { [CLOUDRUN_MANAGED_LABEL]: 'true', [VERSION_LABEL]: VERSION.toLowerCase().replace(/[^a-z0-9_-]/g, '-') },
    annotations: { [VERSION_ANNOTATION]: VERSION },
    traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
    template: {
      maxInstanceRequestConcurrency: concurrency,
      timeout: { seconds: timeout },
      ...(k.serviceAccount ? { serviceAccount: k.serviceAccount } : {}),
      ...(Object.keys(scaling).length ? { scaling } : {}),
      containers: [
        {
          image,
          ports: [{ containerPort: 8080 }],
          env,
          resources: { limits: { memory: `${memoryMi}Mi`, cpu: String(cpuFor(memoryMi, k.cpu)) } },
          startupProbe: { httpGet: { path: '/healthz' } },
        },
      ],
    },
  };
}

/** The least vCPUs Cloud Run accepts for `memoryMi` (4 GiB per CPU up to 2, then 4 GiB per CPU), at least `wanted`. */
function cpuFor(memoryMi: number, wanted = 1): number {
  const steps: [number, number][] = [
    [4096, 1],
    [8192, 2],
    [16384, 4],
    [24576, 6],
    [32768, 8],
  ];
  const step = steps.find(([limit]) => memoryMi <= limit);
  if (!step)
    throw new ConfigError(
      `a Cloud Run instance has at most 32 GiB of memory, and runtimeMemory × cloudrun.containerConcurrency + 256 MB needs ${memoryMi} MiB: lower one of them`,
      { keyPath: 'cloudrun.containerConcurrency', backend: 'cloudrun' },
    );
  return Math.max(step[1], wanted);
}

/** `projects/{project}/locations/{region}` from the options, the environment or gcloud's configuration. */
async function location(
  k: CloudRunRuntimeOptions,
  gcloudConfig: (key: string) => Promise<string | undefined>,
): Promise<string> {
  const env = process.env;
  const project =
    k.project ??
    env.GOOGLE_CLOUD_PROJECT ??
    env.GCLOUD_PROJECT ??
    env.CLOUDSDK_CORE_PROJECT ??
    (await gcloudConfig('project'));
  if (!project)
    throw new ConfigError(
      'set cloudrun.project to the Google Cloud project ID (or GOOGLE_CLOUD_PROJECT, or "gcloud config set project")',
      { keyPath: 'cloudrun.project', backend: 'cloudrun' },
    );
  const region = k.region ?? env.CLOUDSDK_RUN_REGION ?? (await gcloudConfig('run/region'));
  if (!region)
    throw new ConfigError(
      'set cloudrun.region to the Cloud Run region, e.g. "europe-west1" (or "gcloud config set run/region")',
      { keyPath: 'cloudrun.region', backend: 'cloudrun' },
    );
  for (const [key, v] of [
    ['project', project],
    ['region', region],
  ] as const) {
    if (!/^[a-z0-9][-a-z0-9.:]*$/.test(v))
      throw new ConfigError(`cloudrun.${key} ${JSON.stringify(v)} is not a valid ${key}`, {
        keyPath: `cloudrun.${key}`,
        backend: 'cloudrun',
      });
  }
  return `projects/${project}/locations/${region}`;
}

/** `gcloud config get-value KEY`, or undefined when gcloud is missing, fails or has no value. */
function readGcloudConfig(key: string): Promise<string | undefined> {
  if (!onPath('gcloud')) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    execFile('gcloud', ['config', 'get-value', key], { timeout: 20_000 }, (err, stdout) =>
      resolve(err ? undefined : stdout.trim() || undefined),
    );
  });
}

const isBurstService = (s: CloudRunService): boolean => s.labels?.[CLOUDRUN_MANAGED_LABEL] === 'true';
const shortName = (name: string): string => name.split('/').pop() ?? name;
const regionOf = (parent: string): string => parent.split('/')[3] ?? '';
const STATES = [
  'STATE_UNSPECIFIED',
  'CONDITION_PENDING',
  'CONDITION_RECONCILING',
  'CONDITION_FAILED',
  'CONDITION_SUCCEEDED',
];
const conditionState = (s: string | number | null | undefined): string =>
  typeof s === 'number' ? (STATES[s] ?? String(s)) : (s ?? 'STATE_UNSPECIFIED');

function info(s: CloudRunService, memoryMB?: number): RuntimeInfo {
  const parts = (s.name ?? '').split('/');
  const image = s.template?.containers?.[0]?.image;
  const version = s.annotations?.[VERSION_ANNOTATION] ?? s.labels?.[VERSION_LABEL];
  return {
    name: parts[5] ?? s.name ?? '?',
    backend: 'cloudrun',
    ...(memoryMB ? { memoryMB } : {}),
    ...(version ? { burstVersion: version } : {}),
    location: s.uri || '(no URL yet)',
    details: { project: parts[1] ?? '?', region: parts[3] ?? '?', ...(image ? { image } : {}) },
  };
}

/** Runs an Admin API call; its failure becomes a BurstError saying what was being done, with a hint for auth errors. */
async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof BurstError) throw err;
    const e = err as { code?: number | string; message?: string };
    const message = (e.message ?? String(err)).split('\n')[0] ?? '';
    const hint =
      /default credentials/i.test(message) || e.code === 16
        ? '; log in with "gcloud auth application-default login" or set GOOGLE_APPLICATION_CREDENTIALS'
        : e.code === 7
          ? '; deploying needs roles/run.developer on the project and roles/iam.serviceAccountUser on the service account the service runs as'
          : '';
    throw new BurstError('RUNTIME_DEPLOY', `${what} failed: ${message}${hint}`, { backend: 'cloudrun', cause: err });
  }
}

/** gRPC status code of "not found", which the REST transport maps HTTP 404 to. */
const NOT_FOUND = 5;

/**
 * The real client: `@google-cloud/run`'s ServicesClient, imported only here. It uses its REST transport
 * (HTTP/1.1 and JSON, `fallback: true`): the same requests the Admin API's REST reference documents,
 * which the tests check against a local server, and no gRPC channel for a handful of calls.
 */
async function servicesClient(clientOptions: Record<string, unknown>): Promise<CloudRunApi> {
  const { ServicesClient } = await importOptional(
    '@google-cloud/run',
    () => import('@google-cloud/run'),
    'deploying to Cloud Run',
  );
  const client = new ServicesClient({ fallback: true, ...clientOptions });
  // Find the credentials first: a failure inside the client's lazy set-up escapes as an unhandled rejection.
  if (!('authClient' in clientOptions)) await client.auth.getClient();
  type Service = protos.google.cloud.run.v2.IService;
  // Poll the operation every few seconds rather than the default backoff that grows to a minute.
  const polling = {
    longrunning: {
      initialRetryDelayMillis: 2000,
      retryDelayMultiplier: 1.5,
      maxRetryDelayMillis: 10_000,
      totalTimeoutMillis: WAIT_MS,
    },
  };
  return {
    async get(name) {
      try {
        return (await client.getService({ name }))[0] as CloudRunService;
      } catch (err) {
        if ((err as { code?: number }).code === NOT_FOUND) return undefined;
        throw err;
      }
    },
    async create(parent, serviceId, service) {
      const [op] = await client.createService({ parent, serviceId, service: service as Service }, polling);
      return (await op.promise())[0] as CloudRunService;
    },
    async update(service) {
      const [op] = await client.updateService({ service: service as Service }, polling);
      return (await op.promise())[0] as CloudRunService;
    },
    async list(parent) {
      return (await client.listServices({ parent }, { autoPaginate: true }))[0] as CloudRunService[];
    },
    async remove(name) {
      const [op] = await client.deleteService({ name }, polling);
      await op.promise();
    },
    close: () => client.close(),
  };
}
