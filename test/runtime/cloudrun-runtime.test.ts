/**
 * The Cloud Run runtime manager without a Google Cloud account: the real `@google-cloud/run` client
 * (REST transport) against a fake Cloud Run Admin API v2 on 127.0.0.1 that checks the documented
 * REST paths (`/v2/projects/{p}/locations/{r}/services`, `…/operations/{op}`) and keeps services in a
 * map. Long-running operations finish on their first poll, so no test waits on a timer.
 */
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BurstError, ConfigError } from '../../src/index.ts';
import {
  cloudRunRuntimeManager,
  CLOUDRUN_MANAGED_LABEL,
  type CloudRunRuntimeDeps,
} from '../../src/backends/cloudrun/runtime.ts';
import { defaultServiceName } from '../../src/runtime/service-options.ts';
import { runtimeManager } from '../../src/runtime/index.ts';
import type { RuntimeCommandOptions } from '../../src/runtime/types.ts';

type Json = Record<string, any>;
interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Json | undefined;
  auth: string | undefined;
}

const PARENT = '/v2/projects/my-proj/locations/europe-west1';
const fullName = (id: string): string => `projects/my-proj/locations/europe-west1/services/${id}`;

/** A fake Cloud Run Admin API v2: services in a map, each create/patch/delete an operation done on its first poll. */
function fakeCloudRun() {
  const services = new Map<string, Json>();
  const operations = new Map<string, Json>();
  const seen: Seen[] = [];
  let failNext: string | undefined;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = raw ? (JSON.parse(raw) as Json) : undefined;
      seen.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        body,
        auth: req.headers.authorization,
      });
      const send = (status: number, value: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const notFound = (): void =>
        send(404, { error: { code: 404, message: `Resource '${url.pathname}' was not found`, status: 'NOT_FOUND' } });
      const operation = (service: Json): void => {
        const name = `projects/my-proj/locations/europe-west1/operations/op-${operations.size + 1}`;
        operations.set(name, {
          name,
          done: true,
          response: { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', ...service },
        });
        send(200, { name, done: false });
      };
      const ready = (name: string, service: Json): Json => {
        const id = name.split('/').pop();
        // Numeric enums, as asked: 3 is CONDITION_FAILED, 4 CONDITION_SUCCEEDED.
        const condition = failNext ? { type: 'Ready', state: 3, message: failNext } : { type: 'Ready', state: 4 };
        failNext = undefined;
        return {
          ...service,
          name,
          uri: `https://${id}-abc123-ew.a.run.app`,
          etag: `"e${seen.length}"`,
          terminalCondition: condition,
        };
      };
      const m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/(services|operations)(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m) return notFound();
      const [, parent, kind, id] = m;
      const name = `${parent}/${kind}/${id}`;
      if (kind === 'operations') return operations.has(name) ? send(200, operations.get(name)) : notFound();
      if (req.method === 'GET' && !id) return send(200, { services: [...services.values()] });
      if (req.method === 'GET') return services.has(name) ? send(200, services.get(name)) : notFound();
      if (req.method === 'POST' && !id) {
        const created = `${parent}/services/${url.searchParams.get('serviceId')}`;
        if (services.has(created))
          return send(409, { error: { code: 409, message: 'already exists', status: 'ALREADY_EXISTS' } });
        services.set(created, ready(created, body ?? {}));
        return operation(services.get(created)!);
      }
      if (req.method === 'PATCH' && id) {
        if (!services.has(name)) return notFound();
        services.set(name, ready(name, body ?? {}));
        return operation(services.get(name)!);
      }
      if (req.method === 'DELETE' && id) {
        const gone = services.get(name);
        if (!gone) return notFound();
        services.delete(name);
        return operation(gone);
      }
      return send(400, {
        error: { code: 400, message: `unexpected ${req.method} ${url.pathname}`, status: 'INVALID_ARGUMENT' },
      });
    });
  });
  return { server, services, seen, failNext: (message: string) => (failNext = message) };
}

/** An auth client for the REST transport: adds a bearer token and sends with Node's fetch. */
const fakeAuth = {
  getRequestHeaders: async () => new Headers({ authorization: 'Bearer fake-token' }),
  fetch: async (url: string, init: { method?: string; headers?: HeadersInit; body?: string | Buffer }) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', 'Bearer fake-token');
    return fetch(url, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined
        ? { body: typeof init.body === 'string' ? init.body : new Uint8Array(init.body) }
        : {}),
    });
  },
};

const STORAGE = { driver: 's3', options: { region: 'eu', accessKeyId: 'AK', secretAccessKey: 'SK' } };
const opts = (
  backendOptions: Record<string, unknown>,
  extra: Partial<RuntimeCommandOptions> = {},
): RuntimeCommandOptions => ({
  backendOptions,
  bucket: 'burst-data',
  storage: STORAGE,
  log: () => undefined,
  ...extra,
});
const section = {
  project: 'my-proj',
  region: 'europe-west1',
  image: 'europe-docker.pkg.dev/my-proj/burst/burst-worker:1',
  containerConcurrency: 2,
  env: { LOG: '1' },
  tokenSecret: 'burst-token',
  signingKeySecret: 'burst-signing-key',
  storageSecret: 'burst-storage',
};

describe('Cloud Run runtime manager (mocked Cloud Run API)', () => {
  const fake = fakeCloudRun();
  let deps: CloudRunRuntimeDeps;
  const built: string[] = [];
  const pushed: string[] = [];
  before(async () => {
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    const port = (fake.server.address() as AddressInfo).port;
    deps = {
      clientOptions: { apiEndpoint: '127.0.0.1', port, protocol: 'http', authClient: fakeAuth },
      gcloudConfig: async () => undefined,
      build: async (o) => {
        built.push(o.image ?? '?');
        return o.image ?? '?';
      },
      push: async (image) => {
        pushed.push(image);
      },
    };
  });
  after(() => {
    fake.server.close();
  });
  beforeEach(() => {
    fake.seen.length = 0;
  });

  test('deploy builds, pushes and creates a labelled service through POST …/services?serviceId= (mocked Cloud Run API)', async () => {
    const lines: string[] = [];
    const manager = cloudRunRuntimeManager(deps);
    const info = await manager.deploy(opts(section, { name: 'burst-a', memoryMB: 2048, log: (l) => lines.push(l) }));
    assert.deepEqual([built.at(-1), pushed.at(-1)], [section.image, section.image]);
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.path}`),
      [`GET ${PARENT}/services/burst-a`, `POST ${PARENT}/services`, `GET ${PARENT}/operations/op-1`],
    );
    const post = fake.seen[1]!;
    assert.equal(post.query.get('serviceId'), 'burst-a');
    assert.equal(post.auth, 'Bearer fake-token');
    const body = post.body!;
    assert.equal(body.labels[CLOUDRUN_MANAGED_LABEL], 'true');
    assert.match(body.labels['burst-version'], /^[a-z0-9_-]+$/, 'label values allow no dots');
    // The client asks for numeric enums (`$alt=json;enum-encoding=int`): 1 is TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST.
    assert.equal(post.query.get('$alt'), 'json;enum-encoding=int');
    assert.deepEqual(body.traffic, [{ type: 1, percent: 100 }]);
    assert.equal(body.template.maxInstanceRequestConcurrency, 2);
    assert.equal(body.template.timeout, '3600s');
    const container = body.template.containers[0];
    assert.equal(container.image, section.image);
    assert.deepEqual(container.ports, [{ containerPort: 8080 }]);
    // 4352 MiB is over the 4 GiB one vCPU may have, so the instance gets 2.
    assert.deepEqual(container.resources.limits, { memory: `${2048 * 2 + 256}Mi`, cpu: '2' });
    assert.deepEqual(container.env, [
      { name: 'BURST_SERVE_CONCURRENCY', value: '2' },
      { name: 'LOG', value: '1' },
      { name: 'BURST_SERVE_TOKEN', valueSource: { secretKeyRef: { secret: 'burst-token', version: 'latest' } } },
      { name: 'BURST_SIGNING_KEY', valueSource: { secretKeyRef: { secret: 'burst-signing-key', version: 'latest' } } },
      { name: 'BURST_STORAGE_CONFIG', valueSource: { secretKeyRef: { secret: 'burst-storage', version: 'latest' } } },
      { name: 'BURST_SERVE_BUCKETS', value: 'burst-data' },
    ]);
    assert.ok(!JSON.stringify(body).includes('SK'), 'with storageSecret, no credential is in the service spec');
    assert.deepEqual(container.startupProbe, { httpGet: { path: '/healthz' } });
    assert.ok(
      !fake.seen.some((s) => s.path.endsWith(':setIamPolicy')),
      'no allUsers invoker binding: the service keeps requiring authentication',
    );
    assert.equal(info.name, 'burst-a');
    assert.equal(info.location, 'https://burst-a-abc123-ew.a.run.app');
    assert.deepEqual(info.details, { project: 'my-proj', region: 'europe-west1', image: section.image });
    assert.ok(
      lines.some((l) => l.includes('https://burst-a-abc123-ew.a.run.app')),
      'deploy prints the URI',
    );
  });

  test('deploy patches a Burst service with its etag, and refuses one Burst did not create (mocked Cloud Run API)', async () => {
    fake.services.set(fullName('theirs'), {
      name: fullName('theirs'),
      labels: { team: 'x' },
      uri: 'https://theirs.a.run.app',
    });
    const manager = cloudRunRuntimeManager(deps);
    const etag = fake.services.get(fullName('burst-a'))?.etag as string;
    fake.services.get(fullName('burst-a'))!.labels.team = 'ml';
    await manager.deploy(opts({ ...section, build: false, push: false, containerConcurrency: 3 }, { name: 'burst-a' }));
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.path}`),
      [`GET ${PARENT}/services/burst-a`, `PATCH ${PARENT}/services/burst-a`, `GET ${PARENT}/operations/op-2`],
    );
    const patch = fake.seen[1]!.body!;
    assert.equal(patch.name, undefined, 'service.name travels in the path only');
    assert.equal(patch.etag, etag);
    assert.equal(patch.labels.team, 'ml', 'labels others added are kept');
    assert.equal(patch.labels[CLOUDRUN_MANAGED_LABEL], 'true');
    assert.equal(patch.template.maxInstanceRequestConcurrency, 3);
    fake.seen.length = 0;
    await assert.rejects(
      manager.deploy(opts({ ...section, build: false, push: false }, { name: 'theirs' })),
      (e: unknown) => e instanceof ConfigError && /not created by Burst/.test(e.message),
    );
    assert.deepEqual(
      fake.seen.map((s) => s.method),
      ['GET'],
      'nothing is written to a service Burst did not create',
    );
  });

  test("a service that fails to become ready is an error with Cloud Run's reason (mocked Cloud Run API)", async () => {
    fake.failNext('Revision burst-b-00001 is not ready: the container failed to start');
    const manager = cloudRunRuntimeManager(deps);
    await assert.rejects(
      manager.deploy(opts({ ...section, build: false, push: false }, { name: 'burst-b' })),
      (e: unknown) =>
        e instanceof BurstError &&
        e.code === 'RUNTIME_DEPLOY' &&
        /burst-b is not ready: Revision .* failed to start/.test(e.message),
    );
  });

  test('list shows only services labelled burst-managed=true, with their URLs (mocked Cloud Run API)', async () => {
    const manager = cloudRunRuntimeManager(deps);
    const listed = await manager.list(opts(section));
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.path}`),
      [`GET ${PARENT}/services`],
    );
    assert.deepEqual(
      listed.map((i) => [i.name, i.backend, i.location]),
      [
        ['burst-a', 'cloudrun', 'https://burst-a-abc123-ew.a.run.app'],
        ['burst-b', 'cloudrun', 'https://burst-b-abc123-ew.a.run.app'],
      ],
    );
    assert.ok(
      listed.every((i) => i.burstVersion),
      'the Burst version comes back',
    );
  });

  test('delete removes one Burst service or all of them, never another one (mocked Cloud Run API)', async () => {
    const manager = cloudRunRuntimeManager(deps);
    await assert.rejects(
      manager.delete(opts(section, { name: 'theirs' })),
      (e: unknown) => e instanceof ConfigError && /not deleting it/.test(e.message),
    );
    assert.deepEqual(await manager.delete(opts(section, { name: 'gone' })), []);
    fake.seen.length = 0;
    assert.deepEqual(await manager.delete(opts(section)), ['burst-a', 'burst-b']);
    assert.deepEqual(
      fake.seen.filter((s) => s.method === 'DELETE').map((s) => s.path),
      [`${PARENT}/services/burst-a`, `${PARENT}/services/burst-b`],
    );
    assert.deepEqual([...fake.services.keys()], [fullName('theirs')]);
  });
});

describe('Cloud Run options are checked before any request (mocked Cloud Run API)', () => {
  const saved = { ...process.env };
  const unreachable: CloudRunRuntimeDeps = {
    api: async () => assert.fail('no API client may be made'),
    gcloudConfig: async () => undefined,
    build: async () => assert.fail('nothing may be built'),
    push: async () => assert.fail('nothing may be pushed'),
  };
  beforeEach(() => {
    for (const k of ['GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT', 'CLOUDSDK_RUN_REGION'])
      delete process.env[k];
  });
  after(() => {
    Object.assign(process.env, saved);
  });

  test('a missing project, region or image names its option (mocked Cloud Run API)', async () => {
    const manager = cloudRunRuntimeManager(unreachable);
    const keyPath = (k: string) => (e: unknown) => e instanceof ConfigError && e.keyPath === k;
    await assert.rejects(manager.deploy(opts({ region: 'europe-west1', image: 'r/i:1' })), keyPath('cloudrun.project'));
    await assert.rejects(manager.list(opts({ project: 'my-proj' })), keyPath('cloudrun.region'));
    await assert.rejects(manager.delete(opts({ region: 'europe-west1' })), keyPath('cloudrun.project'));
    await assert.rejects(
      manager.deploy(opts({ project: 'my-proj', region: 'europe-west1' })),
      keyPath('cloudrun.image'),
    );
    await assert.rejects(
      manager.deploy(opts({ ...section, timeoutSeconds: 7200 })),
      keyPath('cloudrun.timeoutSeconds'),
    );
    await assert.rejects(manager.deploy(opts(section, { name: 'Not_A_Name' })), /lowercase letters, digits/);
  });

  test("project and region come from the environment or gcloud's configuration (mocked Cloud Run API)", async () => {
    const parents: string[] = [];
    const manager = cloudRunRuntimeManager({
      api: async () => ({
        get: async () => undefined,
        create: async () => ({}),
        update: async () => ({}),
        remove: async () => undefined,
        list: async (parent) => (parents.push(parent), []),
      }),
      gcloudConfig: async (key) => (key === 'run/region' ? 'us-central1' : 'from-gcloud'),
    });
    await manager.list(opts({}));
    process.env.GOOGLE_CLOUD_PROJECT = 'from-env';
    await manager.list(opts({}));
    await manager.list(opts({ project: 'from-options', region: 'asia-east1' }));
    assert.deepEqual(parents, [
      'projects/from-gcloud/locations/us-central1',
      'projects/from-env/locations/us-central1',
      'projects/from-options/locations/asia-east1',
    ]);
  });

  test("the cloudrun backend's runtime manager is this one, and its default name is per minor version", async () => {
    const manager = await runtimeManager('cloudrun');
    await assert.rejects(
      manager.deploy(opts({ project: 'p-1', region: 'europe-west1' })),
      (e: unknown) => e instanceof ConfigError && e.keyPath === 'cloudrun.image',
    );
    assert.match(defaultServiceName(), /^burst-worker-\d+-\d+$/);
  });
});
