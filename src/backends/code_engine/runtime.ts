/**
 * Runtimes of the Code Engine backend: the worker image (built and pushed with docker or podman, see
 * image-build.ts) and a Code Engine application running it, created or updated through the Code Engine
 * API v2 (`/v2/projects/{project_id}/apps`) with fetch, authenticated by an IAM token that an API key
 * (IBMCLOUD_API_KEY) buys from IBM Cloud IAM.
 *
 * Why fetch: the official Node SDK (`@ibm-cloud/ibm-code-engine-sdk`) is not in the npm registry Burst
 * installs from, and the five calls Burst makes are plain JSON over HTTPS.
 *
 * Code Engine applications have neither labels nor tags, so Burst marks its own with the literal
 * environment variable BURST_MANAGED=true (beside BURST_VERSION): list and delete touch only
 * applications that have it, and deploy refuses to replace one without it.
 */
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

/** Runtime options of the `code_engine` section (beside the backend's `url`, `token`, …). */
export interface CodeEngineRuntimeOptions extends ServiceRuntimeOptions {
  /** IBM Cloud region of the project, e.g. `eu-de`, `us-south`. */
  region?: string;
  /** The project's ID (a GUID: `ibmcloud ce project get --name NAME --output json`), not its name. */
  projectId?: string;
  /** vCPUs per instance; the memory is rounded up to a combination Code Engine supports with at least this. @default 1 */
  cpu?: number;
  /** The registry access secret Code Engine pulls a private image with. @default none */
  imageSecret?: string;
}

/** An environment variable of an application (`run_env_variables`). */
export interface CodeEngineEnvVar {
  type:
    | 'literal'
    | 'secret_key_reference'
    | 'secret_full_reference'
    | 'config_map_key_reference'
    | 'config_map_full_reference';
  name?: string;
  value?: string;
  reference?: string;
  key?: string;
}

/** A Code Engine application (API v2 `App`), the fields Burst writes and reads. */
export interface CodeEngineApp {
  name?: string;
  image_reference?: string;
  image_port?: number;
  image_secret?: string;
  run_env_variables?: CodeEngineEnvVar[];
  scale_concurrency?: number;
  scale_concurrency_target?: number;
  scale_cpu_limit?: string;
  scale_memory_limit?: string;
  scale_min_instances?: number;
  scale_max_instances?: number;
  scale_request_timeout?: number;
  probe_readiness?: { type: 'http' | 'tcp'; path?: string; port?: number };
  /** Read only: `ready`, `deploying`, `failed`, `warning`. */
  status?: string;
  status_details?: { reason?: string };
  /** Read only: the public URL. */
  endpoint?: string;
  /** Read only: the version to name in `If-Match` when updating. */
  entity_tag?: string;
}

/** What the manager needs from outside; tests point it at a local server. */
export interface CodeEngineRuntimeDeps extends ImageTools {
  /** IBM Cloud IAM's token endpoint. @default 'https://iam.cloud.ibm.com/identity/token' */
  iamUrl?: string;
  /** The API's base URL in `region`. @default `https://api.${region}.codeengine.cloud.ibm.com/v2` */
  apiUrl?: (region: string) => string;
  /** Waits between readiness checks. */
  sleep?: (ms: number) => Promise<void>;
}

/** The environment variable that marks an application as Burst's. */
export const CODE_ENGINE_MARKER = 'BURST_MANAGED';
const READY_WAIT_MS = 300_000;

/** Creates the Code Engine runtime manager; `deps` replace the endpoints and the image tools in tests. */
export function codeEngineRuntimeManager(deps: CodeEngineRuntimeDeps = {}): RuntimeManager {
  const section = (o: RuntimeCommandOptions): CodeEngineRuntimeOptions => o.backendOptions as CodeEngineRuntimeOptions;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const client = (k: CodeEngineRuntimeOptions): CodeEngineClient => {
    const { region, projectId } = target(k);
    const apiKey = process.env.IBMCLOUD_API_KEY;
    if (!apiKey)
      throw new ConfigError(
        'set IBMCLOUD_API_KEY to an IBM Cloud API key (ibmcloud iam api-key-create burst) to manage Code Engine applications',
        { keyPath: 'IBMCLOUD_API_KEY', backend: 'code_engine' },
      );
    const base = `${(deps.apiUrl ?? ((r: string) => `https://api.${r}.codeengine.cloud.ibm.com/v2`))(region)}/projects/${projectId}/apps`;
    return new CodeEngineClient(base, apiKey, deps.iamUrl ?? 'https://iam.cloud.ibm.com/identity/token');
  };

  return {
    async build(o) {
      const k = section(o);
      return buildRuntimeImage(k, o, deps);
    },

    async deploy(o) {
      const k = section(o);
      const name = serviceName(o.name, NAME);
      if (!k.image)
        throw new ConfigError(
          'code_engine.image must name an image in a registry Code Engine pulls from (e.g. "icr.io/my-namespace/burst-worker:0.1.0")',
          { keyPath: 'code_engine.image', backend: 'code_engine' },
        );
      const worker = { ...(o.bucket ? { bucket: o.bucket } : {}), ...(o.storage ? { storage: o.storage } : {}) };
      codeEngineApp(name, k.image, k, o.memoryMB, worker); // checks the options before building
      const api = client(k);
      const image = await buildAndPush(k.image, k, o, deps);
      const body = codeEngineApp(name, image, k, o.memoryMB, worker);
      const existing = await api.get(name);
      if (existing) {
        if (!isBurstApp(existing)) {
          throw new ConfigError(
            `the Code Engine application ${name} exists and was not created by Burst (no ${CODE_ENGINE_MARKER}=true environment variable); pick another runtime name`,
            { keyPath: 'code_engine', backend: 'code_engine' },
          );
        }
        o.log(`updating Code Engine application ${name}`);
        const { name: _, ...patch } = body; // the name is in the path and cannot change
        await api.update(name, existing.entity_tag ?? '*', patch);
      } else {
        o.log(`creating Code Engine application ${name}`);
        await api.create(body);
      }
      const ready = await waitReady(api, name, o.log, sleep);
      if (ready.endpoint) o.log(`put this URL in code_engine.url: ${ready.endpoint}`);
      return info(ready, k, o.memoryMB);
    },

    async list(o) {
      const k = section(o);
      return (await client(k).list()).filter(isBurstApp).map((a) => info(a, k));
    },

    async delete(o) {
      const k = section(o);
      const api = client(k);
      let names: string[];
      if (o.name) {
        serviceName(o.name, NAME);
        const existing = await api.get(o.name);
        if (!existing) return [];
        if (!isBurstApp(existing)) {
          throw new ConfigError(
            `the Code Engine application ${o.name} was not created by Burst (no ${CODE_ENGINE_MARKER}=true environment variable); not deleting it`,
            { keyPath: 'code_engine', backend: 'code_engine' },
          );
        }
        names = [o.name];
      } else {
        names = (await api.list())
          .filter(isBurstApp)
          .map((a) => a.name ?? '')
          .filter(Boolean);
      }
      for (const name of names) {
        o.log(`deleting Code Engine application ${name}`);
        await api.remove(name);
      }
      return names;
    },
  };
}

/** The manager `burst runtime … --backend code_engine` uses. */
export const codeEngineRuntimes: RuntimeManager = codeEngineRuntimeManager();

/** Memory (GB) and vCPU combinations Code Engine accepts, by memory then CPU. */
const COMBINATIONS: [cpu: number, gb: number][] = [
  [0.125, 0.25],
  [0.125, 0.5],
  [0.25, 0.5],
  [0.125, 1],
  [0.25, 1],
  [0.5, 1],
  [0.25, 2],
  [0.5, 2],
  [1, 2],
  [0.5, 4],
  [1, 4],
  [2, 4],
  [1, 8],
  [2, 8],
  [4, 8],
  [6, 12],
  [2, 16],
  [4, 16],
  [8, 16],
  [6, 24],
  [12, 24],
  [4, 32],
  [8, 32],
  [6, 48],
  [12, 48],
];

/** What Code Engine accepts as an application name. */
const NAME: ServiceNameRule = { label: 'Code Engine application', maxLength: 63, backend: 'code_engine' };

/** The application Burst deploys: the worker image on port 8080 with `containerConcurrency` slots, marked as Burst's. */
export function codeEngineApp(
  name: string,
  image: string,
  k: CodeEngineRuntimeOptions,
  memoryMB: number | undefined,
  worker: WorkerDeployContext,
): CodeEngineApp & { name: string } {
  const concurrency = positiveOption(k.containerConcurrency ?? 4, 'code_engine.containerConcurrency', 'code_engine');
  const timeout = positiveOption(k.timeoutSeconds ?? 600, 'code_engine.timeoutSeconds', 'code_engine');
  if (timeout > 600)
    throw new ConfigError(`code_engine.timeoutSeconds is at most 600 on Code Engine, got ${timeout}`, {
      keyPath: 'code_engine.timeoutSeconds',
      backend: 'code_engine',
    });
  // Each request runs its calls in a worker process of up to memoryMB, so an instance needs that per slot.
  const neededMiB = (memoryMB ?? 512) * concurrency + 256;
  const wantedCpu = k.cpu ?? 1;
  // Code Engine's G is 10^9 bytes; the need is in MiB.
  const combination = COMBINATIONS.find(([cpu, gb]) => cpu >= wantedCpu && gb * 1e9 >= neededMiB * 2 ** 20);
  if (!combination)
    throw new ConfigError(
      `no Code Engine instance size has ${neededMiB} MiB (runtimeMemory × code_engine.containerConcurrency + 256) with ${wantedCpu} vCPU or more: lower one of them`,
      { keyPath: 'code_engine.containerConcurrency', backend: 'code_engine' },
    );
  const env: CodeEngineEnvVar[] = [
    { type: 'literal', name: CODE_ENGINE_MARKER, value: 'true' },
    { type: 'literal', name: 'BURST_VERSION', value: VERSION },
    { type: 'literal', name: 'BURST_SERVE_CONCURRENCY', value: String(concurrency) },
    ...Object.entries(k.env ?? {}).map(([n, value]): CodeEngineEnvVar => ({ type: 'literal', name: n, value })),
    ...workerEnvironment(k, worker, 'code_engine').map(
      (v): CodeEngineEnvVar =>
        'secret' in v
          ? { type: 'secret_key_reference', name: v.name, reference: v.secret, key: v.key }
          : { type: 'literal', ...v },
    ),
  ];
  return {
    name,
    image_reference: image,
    image_port: 8080,
    ...(k.imageSecret ? { image_secret: k.imageSecret } : {}),
    run_env_variables: env,
    scale_concurrency: concurrency,
    scale_concurrency_target: concurrency,
    scale_cpu_limit: String(combination[0]),
    scale_memory_limit: `${combination[1]}G`,
    scale_request_timeout: timeout,
    ...(k.minScale !== undefined ? { scale_min_instances: k.minScale } : {}),
    ...(k.maxScale !== undefined ? { scale_max_instances: k.maxScale } : {}),
    probe_readiness: { type: 'http', path: '/healthz', port: 8080 },
  };
}

/** Region and project from the options, checked before any request. */
function target(k: CodeEngineRuntimeOptions): { region: string; projectId: string } {
  if (!k.region)
    throw new ConfigError('set code_engine.region to the IBM Cloud region of the project, e.g. "eu-de" or "us-south"', {
      keyPath: 'code_engine.region',
      backend: 'code_engine',
    });
  if (!/^[a-z]{2}-[a-z]+$/.test(k.region))
    throw new ConfigError(`code_engine.region ${JSON.stringify(k.region)} is not an IBM Cloud region such as "eu-de"`, {
      keyPath: 'code_engine.region',
      backend: 'code_engine',
    });
  if (!k.projectId)
    throw new ConfigError(
      "set code_engine.projectId to the Code Engine project's ID (ibmcloud ce project get --name NAME shows it)",
      { keyPath: 'code_engine.projectId', backend: 'code_engine' },
    );
  if (!/^[0-9a-f-]{8,64}$/i.test(k.projectId))
    throw new ConfigError(
      `code_engine.projectId must be the project's ID (a GUID), not its name; got ${JSON.stringify(k.projectId)}`,
      { keyPath: 'code_engine.projectId', backend: 'code_engine' },
    );
  return { region: k.region, projectId: k.projectId };
}

const isBurstApp = (a: CodeEngineApp): boolean =>
  (a.run_env_variables ?? []).some((v) => v.type === 'literal' && v.name === CODE_ENGINE_MARKER && v.value === 'true');

/** Polls the application until it is ready (or failed, or the wait is over). */
async function waitReady(
  api: CodeEngineClient,
  name: string,
  log: (line: string) => void,
  sleep: (ms: number) => Promise<void>,
): Promise<CodeEngineApp> {
  const until = Date.now() + READY_WAIT_MS;
  for (;;) {
    const app = (await api.get(name)) ?? { name };
    if (app.status === 'ready' && app.endpoint) return app;
    if (app.status === 'failed')
      throw new BurstError(
        'RUNTIME_DEPLOY',
        `Code Engine application ${name} is not ready: ${app.status_details?.reason ?? 'no reason given'}`,
        { backend: 'code_engine' },
      );
    if (Date.now() > until) {
      log(
        `Code Engine application ${name} is not ready after ${READY_WAIT_MS / 1000} s (${app.status ?? 'no status yet'}); check "ibmcloud ce application get --name ${name}"`,
      );
      return app;
    }
    await sleep(3000);
  }
}

function info(a: CodeEngineApp, k: CodeEngineRuntimeOptions, memoryMB?: number): RuntimeInfo {
  const version = a.run_env_variables?.find((v) => v.name === 'BURST_VERSION')?.value;
  return {
    name: a.name ?? '?',
    backend: 'code_engine',
    ...(memoryMB ? { memoryMB } : {}),
    ...(version ? { burstVersion: version } : {}),
    location: a.endpoint || '(no URL yet)',
    details: {
      region: k.region ?? '?',
      projectId: k.projectId ?? '?',
      ...(a.image_reference ? { image: a.image_reference } : {}),
      ...(a.status ? { status: a.status } : {}),
    },
  };
}

/** The application calls of the Code Engine API v2 in one project, with an IAM token bought once per command. */
class CodeEngineClient {
  private token?: Promise<string>;

  constructor(
    private readonly base: string,
    private readonly apiKey: string,
    private readonly iamUrl: string,
  ) {}

  async get(name: string): Promise<CodeEngineApp | undefined> {
    const r = await this.request('GET', `/${name}`, `reading Code Engine application ${name}`, undefined, [404]);
    return r.status === 404 ? undefined : ((await r.json()) as CodeEngineApp);
  }

  async list(): Promise<CodeEngineApp[]> {
    const apps: CodeEngineApp[] = [];
    let start: string | undefined;
    do {
      const r = await this.request(
        'GET',
        `?limit=100${start ? `&start=${encodeURIComponent(start)}` : ''}`,
        'listing Code Engine applications',
      );
      const page = (await r.json()) as { apps?: CodeEngineApp[]; next?: { start?: string } };
      apps.push(...(page.apps ?? []));
      start = page.next?.start;
    } while (start);
    return apps;
  }

  async create(app: CodeEngineApp): Promise<void> {
    await this.request('POST', '', `creating Code Engine application ${app.name}`, {
      body: JSON.stringify(app),
      type: 'application/json',
    });
  }

  async update(name: string, entityTag: string, patch: CodeEngineApp): Promise<void> {
    await this.request('PATCH', `/${name}`, `updating Code Engine application ${name}`, {
      body: JSON.stringify(patch),
      type: 'application/merge-patch+json',
      ifMatch: entityTag,
    });
  }

  async remove(name: string): Promise<void> {
    await this.request('DELETE', `/${name}`, `deleting Code Engine application ${name}`, undefined, [404]);
  }

  private async request(
    method: string,
    path: string,
    what: string,
    send?: { body: string; type: string; ifMatch?: string },
    accepted: number[] = [],
  ): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await this.iamToken()}`,
      Accept: 'application/json',
    };
    if (send) headers['Content-Type'] = send.type;
    if (send?.ifMatch) headers['If-Match'] = send.ifMatch;
    const r = await fetchOr(what, `${this.base}${path}`, { method, headers, ...(send ? { body: send.body } : {}) });
    if (r.ok || accepted.includes(r.status)) return r;
    const text = await r.text();
    let detail = text.slice(0, 300);
    try {
      const e = JSON.parse(text) as { errors?: { message?: string }[]; message?: string };
      detail =
        e.errors
          ?.map((x) => x.message)
          .filter(Boolean)
          .join('; ') ||
        e.message ||
        detail;
    } catch {
      // not JSON: keep the text
    }
    const hint =
      r.status === 401 || r.status === 403 ? '; the API key needs the Writer role on the Code Engine project' : '';
    throw new BurstError('RUNTIME_DEPLOY', `${what} failed (HTTP ${r.status}): ${detail}${hint}`, {
      backend: 'code_engine',
    });
  }

  /** An IAM access token for the API key; the key itself never appears in an error. */
  private iamToken(): Promise<string> {
    this.token ??= (async () => {
      const r = await fetchOr('getting an IBM Cloud IAM token', this.iamUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'urn:ibm:params:oauth:grant-type:apikey',
          apikey: this.apiKey,
        }).toString(),
      });
      const out = (await r.json().catch(() => ({}))) as { access_token?: string; errorMessage?: string };
      if (!r.ok || !out.access_token) {
        throw new BurstError(
          'RUNTIME_DEPLOY',
          `IBM Cloud IAM refused IBMCLOUD_API_KEY (HTTP ${r.status}): ${out.errorMessage ?? 'no access token in the answer'}`,
          { backend: 'code_engine' },
        );
      }
      return out.access_token;
    })();
    return this.token;
  }
}

/** fetch with a timeout; a network failure says what was being done. */
async function fetchOr(what: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new BurstError('RUNTIME_DEPLOY', `${what} failed: ${(err as Error).message} (${new URL(url).host})`, {
      backend: 'code_engine',
      cause: err,
    });
  }
}
