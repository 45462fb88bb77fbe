/**
 * Runtimes of the Knative backend: the worker image (built with docker or podman, see image-build.ts)
 * and a Knative Service (`serving.knative.dev/v1`) running it, managed through the Kubernetes API with
 * the official `@kubernetes/client-node` (loaded only here). Services Burst creates carry the label
 * `burst.dev/managed=true`, so list and delete never touch anyone else's.
 */
import { BurstError, ConfigError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { buildAndPush, buildRuntimeImage, defaultImage, type ImageTools } from '../../runtime/image-build.js';
import {
  serviceName as checkedName,
  workerEnvironment,
  type ServiceRuntimeOptions,
  type WorkerDeployContext,
} from '../../runtime/service-options.js';
import type { RuntimeCommandOptions, RuntimeInfo, RuntimeManager } from '../../runtime/types.js';
import { importOptional } from '../../runtime/optional-package.js';

/** Runtime options of the `knative` section (beside the backend's `url`, `token`, …). */
export interface KnativeRuntimeOptions extends ServiceRuntimeOptions {
  /** Kubernetes namespace of the service. @default 'default' */
  namespace?: string;
  /** Path of a kubeconfig file. @default $KUBECONFIG or ~/.kube/config (or the in-cluster account) */
  kubeconfig?: string;
  /** kubeconfig context to use. @default its current context */
  context?: string;
}

/** The part of `CustomObjectsApi` (object-parameter style, @kubernetes/client-node 1.x) that Burst uses. */
export interface KnativeApi {
  getNamespacedCustomObject(p: ObjectRef & { name: string }): Promise<unknown>;
  createNamespacedCustomObject(p: ObjectRef & { body: object }): Promise<unknown>;
  replaceNamespacedCustomObject(p: ObjectRef & { name: string; body: object }): Promise<unknown>;
  listNamespacedCustomObject(p: ObjectRef & { labelSelector?: string }): Promise<unknown>;
  deleteNamespacedCustomObject(p: ObjectRef & { name: string }): Promise<unknown>;
}

/** Which custom objects: Knative Services of one namespace. */
export interface ObjectRef {
  group: string;
  version: string;
  namespace: string;
  plural: string;
}

/** A Knative Service as far as Burst reads it. */
interface KService {
  metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
  status?: { url?: string; conditions?: { type?: string; status?: string; message?: string }[] };
}

/** What the manager needs from outside; tests replace both. */
export interface KnativeRuntimeDeps extends ImageTools {
  /** The Kubernetes API client for the options' kubeconfig and context. */
  api?: (o: KnativeRuntimeOptions) => Promise<KnativeApi>;
  /** Waits between readiness checks. */
  sleep?: (ms: number) => Promise<void>;
}

export const MANAGED_LABEL = 'burst.dev/managed';
const GROUP = { group: 'serving.knative.dev', version: 'v1', plural: 'services' };
const READY_WAIT_MS = 180_000;

/** The default runtime name: one service per Burst minor version (workers refuse other versions' jobs). */

/** Creates the Knative runtime manager; `deps` replace the Kubernetes client and the image tools in tests. */
export function knativeRuntimeManager(deps: KnativeRuntimeDeps = {}): RuntimeManager {
  const api = deps.api ?? kubernetesApi;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const section = (o: RuntimeCommandOptions): KnativeRuntimeOptions => o.backendOptions as KnativeRuntimeOptions;
  const ref = (o: KnativeRuntimeOptions): ObjectRef => ({ ...GROUP, namespace: o.namespace ?? 'default' });

  return {
    async build(o) {
      const k = section(o);
      return buildRuntimeImage(k, o, deps);
    },

    async deploy(o) {
      const k = section(o);
      const name = knativeName(o.name);
      // Checked before building, as on the other platforms: a long build should not end in this error.
      if (k.push !== false && !k.image)
        throw new ConfigError(
          'knative.image must name an image in a registry the cluster pulls from (e.g. "ghcr.io/me/burst-worker:0.1.0"), or set knative.push to false',
          { keyPath: 'knative.image', backend: 'knative' },
        );
      const worker = { ...(o.bucket ? { bucket: o.bucket } : {}), ...(o.storage ? { storage: o.storage } : {}) };
      serviceManifest(name, 'check', k, o.memoryMB, worker); // checks the secrets before building
      const image = await buildAndPush(k.image ?? defaultImage(), k, o, deps);
      const client = await api(k);
      const body = serviceManifest(name, image, k, o.memoryMB, worker);
      const existing = await getService(client, ref(k), name);
      if (existing) {
        if (existing.metadata?.labels?.[MANAGED_LABEL] !== 'true') {
          throw new ConfigError(
            `the Knative service ${k.namespace ?? 'default'}/${name} exists and was not created by Burst (no ${MANAGED_LABEL}=true label); pick another runtime name`,
            { keyPath: 'knative', backend: 'knative' },
          );
        }
        o.log(`updating Knative service ${name}`);
        body.metadata.resourceVersion = existing.metadata?.resourceVersion;
        await kube(`updating Knative service ${name}`, () =>
          client.replaceNamespacedCustomObject({ ...ref(k), name, body }),
        );
      } else {
        o.log(`creating Knative service ${name}`);
        await kube(`creating Knative service ${name}`, () => client.createNamespacedCustomObject({ ...ref(k), body }));
      }
      const ready = await waitReady(client, ref(k), name, o.log, sleep);
      return info(ready ?? { metadata: { name }, spec: body.spec }, k, o.memoryMB);
    },

    async list(o) {
      const k = section(o);
      const client = await api(k);
      const out = (await kube('listing Knative services', () =>
        client.listNamespacedCustomObject({ ...ref(k), labelSelector: `${MANAGED_LABEL}=true` }),
      )) as { items?: KService[] };
      return (out.items ?? []).map((s) => info(s, k));
    },

    async delete(o) {
      const k = section(o);
      const client = await api(k);
      let names: string[];
      if (o.name) {
        const existing = await getService(client, ref(k), o.name);
        if (!existing) return [];
        if (existing.metadata?.labels?.[MANAGED_LABEL] !== 'true') {
          throw new ConfigError(
            `the Knative service ${o.name} was not created by Burst (no ${MANAGED_LABEL}=true label); not deleting it`,
            { keyPath: 'knative', backend: 'knative' },
          );
        }
        names = [o.name];
      } else {
        const out = (await kube('listing Knative services', () =>
          client.listNamespacedCustomObject({ ...ref(k), labelSelector: `${MANAGED_LABEL}=true` }),
        )) as { items?: KService[] };
        names = (out.items ?? []).map((s) => s.metadata?.name).filter((n): n is string => !!n);
      }
      for (const name of names) {
        o.log(`deleting Knative service ${name}`);
        await kube(`deleting Knative service ${name}`, () => client.deleteNamespacedCustomObject({ ...ref(k), name }));
      }
      return names;
    },
  };
}

/** The manager `burst runtime … --backend knative` uses. */
export const knativeRuntimes: RuntimeManager = knativeRuntimeManager();

/** The Knative Service Burst deploys: the worker image on port 8080 with `containerConcurrency` slots. */
export function serviceManifest(
  name: string,
  image: string,
  k: KnativeRuntimeOptions,
  memoryMB: number | undefined,
  worker: WorkerDeployContext,
): {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string>; resourceVersion?: string | undefined };
  spec: object;
} {
  const concurrency = k.containerConcurrency ?? 4;
  const labels = { [MANAGED_LABEL]: 'true', 'burst.dev/version': VERSION };
  // Each request runs its calls in a worker process of up to memoryMB, so a pod needs that per slot.
  const memory = `${(memoryMB ?? 512) * concurrency + 256}Mi`;
  const env = [
    { name: 'BURST_SERVE_CONCURRENCY', value: String(concurrency) },
    ...Object.entries(k.env ?? {}).map(([n, value]) => ({ name: n, value })),
    ...workerEnvironment(k, worker, 'knative').map((v) =>
      'secret' in v ? { name: v.name, valueFrom: { secretKeyRef: { name: v.secret, key: v.key } } } : v,
    ),
  ];
  const annotations: Record<string, string> = {
    'autoscaling.knative.dev/min-scale': String(k.minScale ?? 0),
    // Scale on requests in flight: one per worker slot.
    'autoscaling.knative.dev/metric': 'concurrency',
    'autoscaling.knative.dev/target': String(concurrency),
    ...(k.maxScale ? { 'autoscaling.knative.dev/max-scale': String(k.maxScale) } : {}),
  };
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, labels },
    spec: {
      template: {
        metadata: { labels, annotations },
        spec: {
          containerConcurrency: concurrency,
          timeoutSeconds: k.timeoutSeconds ?? 600,
          containers: [
            {
              image,
              ports: [{ containerPort: 8080 }],
              env,
              resources: { requests: { memory }, limits: { memory } },
              readinessProbe: { httpGet: { path: '/healthz' } },
            },
          ],
        },
      },
    },
  };
}

async function getService(client: KnativeApi, ref: ObjectRef, name: string): Promise<KService | undefined> {
  try {
    return (await client.getNamespacedCustomObject({ ...ref, name })) as KService;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw kubeError(err, `reading Knative service ${ref.namespace}/${name}`);
  }
}

/** Polls the service until its Ready condition is True (or False, or the wait is over). */
async function waitReady(
  client: KnativeApi,
  ref: ObjectRef,
  name: string,
  log: (line: string) => void,
  sleep: (ms: number) => Promise<void>,
): Promise<KService | undefined> {
  const until = Date.now() + READY_WAIT_MS;
  for (;;) {
    const s = await getService(client, ref, name);
    const ready = s?.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True' && s?.status?.url) return s;
    if (ready?.status === 'False')
      throw new BurstError(
        'RUNTIME_DEPLOY',
        `Knative service ${ref.namespace}/${name} is not ready: ${ready.message ?? 'no reason given'}`,
        { backend: 'knative' },
      );
    if (Date.now() > until) {
      log(
        `Knative service ${name} is not ready after ${READY_WAIT_MS / 1000} s (${ready?.message ?? 'no status yet'}); check "kubectl get ksvc ${name} -n ${ref.namespace}"`,
      );
      return s;
    }
    await sleep(2000);
  }
}

function info(s: KService, k: KnativeRuntimeOptions, memoryMB?: number): RuntimeInfo {
  const image = s.spec?.template?.spec?.containers?.[0]?.image;
  const version = s.metadata?.labels?.['burst.dev/version'];
  return {
    name: s.metadata?.name ?? '?',
    backend: 'knative',
    ...(memoryMB ? { memoryMB } : {}),
    ...(version ? { burstVersion: version } : {}),
    location: s.status?.url ?? '(no URL yet)',
    details: { namespace: k.namespace ?? 'default', ...(image ? { image } : {}) },
  };
}

/** Runs a Kubernetes API call; its failure becomes a BurstError saying what was being done. */
async function kube<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kubeError(err, what);
  }
}

function kubeError(err: unknown, what: string): BurstError {
  const e = err as { code?: number; body?: unknown; message?: string };
  const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '');
  return new BurstError(
    'RUNTIME_DEPLOY',
    `${what} failed${e.code ? ` (HTTP ${e.code})` : ''}: ${(e.message ?? '').split('\n')[0]} ${body.slice(0, 300)}`.trim(),
    { backend: 'knative', cause: err },
  );
}

/** The real client: @kubernetes/client-node's CustomObjectsApi, imported only when a Knative runtime command runs. */
async function kubernetesApi(o: KnativeRuntimeOptions): Promise<KnativeApi> {
  const k8s = await importOptional(
    '@kubernetes/client-node',
    () => import('@kubernetes/client-node'),
    'deploying to Knative',
  );
  const kc = new k8s.KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  if (o.context) kc.setCurrentContext(o.context);
  return kc.makeApiClient(k8s.CustomObjectsApi);
}

function knativeName(name: string | undefined): string {
  return checkedName(name, { label: 'Knative service', maxLength: 63, backend: 'knative' });
}
