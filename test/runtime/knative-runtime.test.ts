/**
 * Runtimes of the container platforms without a cluster: the Knative manager against a mocked
 * CustomObjectsApi (the request shapes @kubernetes/client-node 1.x documents), the real
 * @kubernetes/client-node against a fake Kubernetes API server on localhost (the REST paths and
 * bodies it sends), the Dockerfile and build context, and the builder detection. No real Kubernetes
 * cluster, registry or cloud account is involved.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { BurstError, ConfigError } from '../../src/index.ts';
import { knativeRuntimeManager, MANAGED_LABEL, type KnativeApi } from '../../src/backends/knative/runtime.ts';
import { defaultServiceName } from '../../src/runtime/service-options.ts';
import { writeBuildContext } from '../../src/runtime/dockerfile.ts';
import { pickBuilder } from '../../src/runtime/image-build.ts';
import type { RuntimeCommandOptions } from '../../src/runtime/types.ts';

type Call = { method: string; args: object };

/** A CustomObjectsApi stand-in holding services in a map, recording every call. */
function mockApi(
  initial: Record<string, object> = {},
): KnativeApi & { calls: Call[]; services: Map<string, Record<string, unknown>> } {
  const services = new Map(Object.entries(initial) as [string, Record<string, unknown>][]);
  const calls: Call[] = [];
  const notFound = (): never => {
    throw Object.assign(new Error('HTTP-Code: 404 Message: Not Found'), { code: 404, body: { reason: 'NotFound' } });
  };
  const ready = (body: Record<string, unknown>): Record<string, unknown> => {
    const name = (body.metadata as { name: string }).name;
    return {
      ...body,
      metadata: { ...(body.metadata as object), resourceVersion: '7' },
      status: { url: `http://${name}.default.example.com`, conditions: [{ type: 'Ready', status: 'True' }] },
    };
  };
  return {
    calls,
    services,
    async getNamespacedCustomObject(p) {
      calls.push({ method: 'get', args: p });
      return services.get(p.name) ?? notFound();
    },
    async createNamespacedCustomObject(p) {
      calls.push({ method: 'create', args: p });
      const body = p.body as Record<string, unknown>;
      services.set((body.metadata as { name: string }).name, ready(body));
      return body;
    },
    async replaceNamespacedCustomObject(p) {
      calls.push({ method: 'replace', args: p });
      services.set(p.name, ready(p.body as Record<string, unknown>));
      return p.body;
    },
    async listNamespacedCustomObject(p) {
      calls.push({ method: 'list', args: p });
      const items = [...services.values()].filter(
        (s) => (s.metadata as { labels?: Record<string, string> }).labels?.[MANAGED_LABEL] === 'true',
      );
      return { apiVersion: 'serving.knative.dev/v1', kind: 'ServiceList', items };
    },
    async deleteNamespacedCustomObject(p) {
      calls.push({ method: 'delete', args: p });
      if (!services.delete(p.name)) notFound();
      return { status: 'Success' };
    },
  };
}

const ref = { group: 'serving.knative.dev', version: 'v1', namespace: 'jobs', plural: 'services' };
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
const built: string[] = [];
const pushed: string[] = [];
const tools = {
  build: async (o: { image?: string }) => {
    built.push(o.image ?? '?');
    return o.image ?? '?';
  },
  push: async (image: string) => {
    pushed.push(image);
  },
  sleep: async () => undefined,
};
const knative = {
  namespace: 'jobs',
  image: 'registry.example.com/burst-worker:1',
  containerConcurrency: 2,
  tokenSecret: 'burst-token',
  signingKeySecret: 'burst-token',
  env: { LOG: '1' },
};

describe('Knative runtime manager (mocked Kubernetes API)', () => {
  test('deploy builds, pushes and creates a labelled serving.knative.dev/v1 Service (mocked Kubernetes API)', async () => {
    const api = mockApi();
    const manager = knativeRuntimeManager({ api: async () => api, ...tools });
    const info = await manager.deploy(opts(knative, { name: 'burst-a', memoryMB: 1024 }));
    assert.deepEqual([built.at(-1), pushed.at(-1)], [knative.image, knative.image]);
    assert.deepEqual(
      api.calls.map((c) => c.method),
      ['get', 'create', 'get'],
    );
    const create = api.calls[1]?.args as typeof ref & { body: Record<string, any> };
    assert.deepEqual(
      { group: create.group, version: create.version, namespace: create.namespace, plural: create.plural },
      ref,
    );
    const body = create.body;
    assert.equal(body.apiVersion, 'serving.knative.dev/v1');
    assert.equal(body.kind, 'Service');
    assert.equal(body.metadata.name, 'burst-a');
    assert.equal(body.metadata.labels[MANAGED_LABEL], 'true');
    const spec = body.spec.template.spec;
    assert.equal(spec.containerConcurrency, 2);
    assert.equal(body.spec.template.metadata.annotations['autoscaling.knative.dev/target'], '2');
    const container = spec.containers[0];
    assert.equal(container.image, knative.image);
    assert.deepEqual(container.ports, [{ containerPort: 8080 }]);
    assert.deepEqual(container.resources.limits, { memory: `${1024 * 2 + 256}Mi` });
    assert.deepEqual(container.env, [
      { name: 'BURST_SERVE_CONCURRENCY', value: '2' },
      { name: 'LOG', value: '1' },
      { name: 'BURST_SERVE_TOKEN', valueFrom: { secretKeyRef: { name: 'burst-token', key: 'token' } } },
      { name: 'BURST_SIGNING_KEY', valueFrom: { secretKeyRef: { name: 'burst-token', key: 'signing-key' } } },
      { name: 'BURST_STORAGE_CONFIG', value: JSON.stringify(STORAGE) },
      { name: 'BURST_SERVE_BUCKETS', value: 'burst-data' },
    ]);
    assert.deepEqual(container.readinessProbe, { httpGet: { path: '/healthz' } });
    assert.equal(info.location, 'http://burst-a.default.example.com');
    assert.equal(info.details?.namespace, 'jobs');
  });

  test('deploy replaces a Burst service with its resourceVersion, and refuses one Burst did not create (mocked Kubernetes API)', async () => {
    const api = mockApi({
      'burst-a': { metadata: { name: 'burst-a', resourceVersion: '41', labels: { [MANAGED_LABEL]: 'true' } } },
      theirs: { metadata: { name: 'theirs', labels: {} } },
    });
    const manager = knativeRuntimeManager({ api: async () => api, ...tools });
    await manager.deploy(opts({ ...knative, build: false, push: false }, { name: 'burst-a' }));
    const replace = api.calls.find((c) => c.method === 'replace')?.args as {
      name: string;
      body: { metadata: { resourceVersion: string } };
    };
    assert.equal(replace.name, 'burst-a');
    assert.equal(replace.body.metadata.resourceVersion, '41');
    await assert.rejects(
      manager.deploy(opts({ ...knative, build: false, push: false }, { name: 'theirs' })),
      (e: unknown) => e instanceof ConfigError && /not created by Burst/.test(e.message),
    );
  });

  test('list and delete find only services labelled burst.dev/managed=true (mocked Kubernetes API)', async () => {
    const api = mockApi({
      'burst-a': {
        metadata: { name: 'burst-a', labels: { [MANAGED_LABEL]: 'true', 'burst.dev/version': '0.1.0' } },
        status: { url: 'http://a' },
      },
      'burst-b': { metadata: { name: 'burst-b', labels: { [MANAGED_LABEL]: 'true' } } },
      theirs: { metadata: { name: 'theirs', labels: {} } },
    });
    const manager = knativeRuntimeManager({ api: async () => api, ...tools });
    const listed = await manager.list(opts(knative));
    assert.deepEqual(
      listed.map((i) => [i.name, i.location, i.burstVersion]),
      [
        ['burst-a', 'http://a', '0.1.0'],
        ['burst-b', '(no URL yet)', undefined],
      ],
    );
    assert.equal((api.calls[0]?.args as { labelSelector: string } | undefined)?.labelSelector, `${MANAGED_LABEL}=true`);
    await assert.rejects(manager.delete(opts(knative, { name: 'theirs' })), /not created by Burst/);
    assert.deepEqual(await manager.delete(opts(knative)), ['burst-a', 'burst-b']);
    assert.deepEqual([...api.services.keys()], ['theirs']);
    assert.deepEqual(await manager.delete(opts(knative, { name: 'gone' })), []);
  });

  test('a Kubernetes API failure says what was being done (mocked Kubernetes API)', async () => {
    const api = mockApi();
    api.createNamespacedCustomObject = async () => {
      throw Object.assign(new Error('HTTP-Code: 403 Message: Forbidden'), {
        code: 403,
        body: { message: 'services.serving.knative.dev is forbidden' },
      });
    };
    const manager = knativeRuntimeManager({ api: async () => api, ...tools });
    await assert.rejects(
      manager.deploy(opts({ ...knative, build: false, push: false }, { name: 'burst-a' })),
      (e: unknown) =>
        e instanceof BurstError && /creating Knative service burst-a failed \(HTTP 403\).*forbidden/.test(e.message),
    );
  });

  test('deploy will not push an image without a registry, and checks the service name', async () => {
    const manager = knativeRuntimeManager({ api: async () => mockApi(), ...tools });
    await assert.rejects(
      manager.deploy(opts({ namespace: 'jobs' })),
      (e: unknown) => e instanceof ConfigError && e.keyPath === 'knative.image',
    );
    await assert.rejects(
      manager.deploy(opts({ ...knative, push: false }, { name: 'Not_A_Name' })),
      /lowercase letters, digits/,
    );
    assert.match(defaultServiceName(), /^burst-worker-\d+-\d+$/);
  });
});

describe('the real @kubernetes/client-node against a fake Kubernetes API server', () => {
  let server: Server;
  let kubeconfig: string;
  const requests: { method: string; path: string; body: string }[] = [];
  let stored: Record<string, unknown> | undefined;
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', body });
        const send = (status: number, value: unknown): void => {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (req.method === 'GET' && !stored)
          return send(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
        if (req.method === 'POST') {
          stored = {
            ...(JSON.parse(body) as object),
            status: { url: 'http://burst-x.jobs.example.com', conditions: [{ type: 'Ready', status: 'True' }] },
          };
          return send(201, JSON.parse(body));
        }
        return send(200, stored);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = await mkdtemp(join(tmpdir(), 'burst-kube-'));
    kubeconfig = join(dir, 'config');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: me\ncurrent-context: fake\nusers:\n- name: me\n  user:\n    token: not-a-secret\n`,
    );
  });
  after(() => {
    server.close();
  });

  test('deploy sends GET then POST /apis/serving.knative.dev/v1/namespaces/jobs/services with the manifest', async () => {
    const manager = knativeRuntimeManager({ ...tools });
    const info = await manager.deploy(opts({ ...knative, kubeconfig, build: false, push: false }, { name: 'burst-x' }));
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path.split('?')[0]}`),
      [
        'GET /apis/serving.knative.dev/v1/namespaces/jobs/services/burst-x',
        'POST /apis/serving.knative.dev/v1/namespaces/jobs/services',
        'GET /apis/serving.knative.dev/v1/namespaces/jobs/services/burst-x',
      ],
    );
    const sent = JSON.parse(requests[1]?.body ?? '{}') as {
      kind: string;
      metadata: { labels: Record<string, string> };
    };
    assert.equal(sent.kind, 'Service');
    assert.equal(sent.metadata.labels[MANAGED_LABEL], 'true');
    assert.equal(info.location, 'http://burst-x.jobs.example.com');
  });
});

test('the build context holds a Dockerfile, the dependencies without scripts, the lock file and Burst packed', async () => {
  const project = await mkdtemp(join(tmpdir(), 'burst-project-'));
  try {
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'my-tasks',
        version: '1.0.0',
        type: 'module',
        scripts: { prepare: 'tsc' },
        dependencies: { sharp: '0.35.5' },
        devDependencies: { typescript: '5.9.3' },
      }),
    );
    await writeFile(join(project, 'package-lock.json'), '{"lockfileVersion":3}');
    const { dir, dockerfile } = await writeBuildContext({ projectDir: project });
    assert.equal(dir, join(project, '.burst', 'runtime'));
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(pkg, {
      name: 'my-tasks',
      version: '1.0.0',
      type: 'module',
      dependencies: { sharp: '0.35.5' },
      private: true,
    });
    assert.ok(existsSync(join(dir, 'package-lock.json')));
    assert.ok(
      (await readdir(dir)).some((f) => /^burst-compute-\d+\.\d+\.\d+\.tgz$/.test(f)),
      'Burst is packed into the context',
    );
    assert.match(dockerfile, /^FROM node:20-slim$/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /^USER 1000$/m);
    assert.match(
      dockerfile,
      /CMD \["node", "\/opt\/burst\/node_modules\/burst-compute\/dist\/cli\/main.js", "worker", "serve"\]/,
    );
    assert.equal(await readFile(join(dir, 'Dockerfile'), 'utf8'), dockerfile);
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});

test('without docker or podman the build says so, naming both', async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(
      pickBuilder(),
      (e: unknown) =>
        e instanceof BurstError &&
        e.code === 'NO_IMAGE_BUILDER' &&
        /docker: not installed; podman: not installed/.test(e.message),
    );
  } finally {
    process.env.PATH = saved;
  }
});
