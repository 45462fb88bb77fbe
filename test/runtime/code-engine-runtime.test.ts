/**
 * The Code Engine runtime manager without an IBM Cloud account: its fetch client against a fake IBM
 * Cloud IAM token endpoint and a fake Code Engine API v2 on 127.0.0.1, which check the documented
 * requests (`POST /identity/token` with the API-key grant; `GET|POST /v2/projects/{id}/apps`,
 * `GET|PATCH|DELETE /v2/projects/{id}/apps/{name}` with a bearer token, `If-Match` and merge-patch on
 * update) and keep applications in a map. Applications are ready at once, so no test waits on a timer.
 */
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BurstError, ConfigError } from '../../src/index.ts';
import {
  codeEngineRuntimeManager,
  CODE_ENGINE_MARKER,
  type CodeEngineRuntimeDeps,
} from '../../src/backends/code_engine/runtime.ts';
import { runtimeManager } from '../../src/runtime/index.ts';
import type { RuntimeCommandOptions } from '../../src/runtime/types.ts';

type Json = Record<string, any>;
interface Seen {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const PROJECT = '15314cc3-85b4-4338-903f-c28cdee6d005';
const APPS = `/v2/projects/${PROJECT}/apps`;
const API_KEY = 'not-a-real-key-0123456789';

/** Fake IAM and Code Engine: apps in a map, ready as soon as they are written. */
function fakeIbmCloud() {
  const apps = new Map<string, Json>();
  const seen: Seen[] = [];
  let tag = 0;
  let failNext: string | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body });
      const send = (status: number, value?: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(value === undefined ? '' : JSON.stringify(value));
      };
      if (url.pathname === '/identity/token') {
        const form = new URLSearchParams(body);
        if (
          req.headers['content-type'] !== 'application/x-www-form-urlencoded' ||
          form.get('grant_type') !== 'urn:ibm:params:oauth:grant-type:apikey'
        )
          return send(400, { errorCode: 'BXNIM0109E', errorMessage: 'bad grant' });
        if (form.get('apikey') !== API_KEY)
          return send(400, { errorCode: 'BXNIM0415E', errorMessage: 'Provided API key could not be found.' });
        return send(200, { access_token: 'iam-token', token_type: 'Bearer', expires_in: 3600 });
      }
      if (req.headers.authorization !== 'Bearer iam-token')
        return send(401, { errors: [{ code: 'unauthorized', message: 'missing or invalid token' }], status_code: 401 });
      const notFound = (): void =>
        send(404, { errors: [{ code: 'not_found', message: 'Application not found' }], status_code: 404 });
      const written = (app: Json): Json => {
        const status = failNext
          ? { status: 'failed', status_details: { reason: failNext } }
          : { status: 'ready', endpoint: `https://${app.name}.abc.eu-de.codeengine.appdomain.cloud` };
        failNext = undefined;
        return { ...app, ...status, entity_tag: String(++tag) };
      };
      const m = /^\/v2\/projects\/([^/]+)\/apps(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m || m[1] !== PROJECT)
        return send(404, { errors: [{ code: 'project_not_found', message: 'Project not found' }] });
      const name = m[2];
      if (req.method === 'GET' && !name) return send(200, { apps: [...apps.values()], limit: 100 });
      if (req.method === 'GET') return apps.has(name!) ? send(200, apps.get(name!)) : notFound();
      if (req.method === 'POST' && !name) {
        const app = JSON.parse(body) as Json;
        if (req.headers['content-type'] !== 'application/json' || !app.name || !app.image_reference)
          return send(400, { errors: [{ message: 'name and image_reference are required' }] });
        if (apps.has(app.name)) return send(409, { errors: [{ message: 'already exists' }] });
        apps.set(app.name, written(app));
        return send(201, apps.get(app.name));
      }
      if (req.method === 'PATCH' && name) {
        const current = apps.get(name);
        if (!current) return notFound();
        if (req.headers['content-type'] !== 'application/merge-patch+json')
          return send(415, { errors: [{ message: 'merge-patch+json expected' }] });
        if (req.headers['if-match'] !== current.entity_tag)
          return send(412, { errors: [{ message: 'entity tag mismatch' }] });
        apps.set(name, written({ ...current, ...(JSON.parse(body) as Json) }));
        return send(200, apps.get(name));
      }
      if (req.method === 'DELETE' && name) return apps.delete(name) ? send(202, {}) : notFound();
      return send(400, { errors: [{ message: `unexpected ${req.method} ${url.pathname}` }] });
    });
  });
  return { server, apps, seen, failNext: (reason: string) => (failNext = reason) };
}

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
  region: 'eu-de',
  projectId: PROJECT,
  image: 'icr.io/me/burst-worker:1',
  containerConcurrency: 2,
  env: { LOG: '1' },
  tokenSecret: 'burst-serve-token',
  signingKeySecret: 'burst-serve-token',
  imageSecret: 'icr-pull',
};
const savedKey = process.env.IBMCLOUD_API_KEY;

describe('Code Engine runtime manager (mocked Code Engine API)', () => {
  const fake = fakeIbmCloud();
  let deps: CodeEngineRuntimeDeps;
  const built: string[] = [];
  const pushed: string[] = [];
  before(async () => {
    process.env.IBMCLOUD_API_KEY = API_KEY;
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    deps = {
      iamUrl: `${base}/identity/token`,
      apiUrl: (region) => (assert.equal(region, 'eu-de'), `${base}/v2`),
      sleep: async () => undefined,
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
    if (savedKey === undefined) delete process.env.IBMCLOUD_API_KEY;
    else process.env.IBMCLOUD_API_KEY = savedKey;
  });
  beforeEach(() => {
    fake.seen.length = 0;
  });

  test('deploy gets an IAM token, builds, pushes and creates a marked application with POST /v2/projects/{id}/apps (mocked Code Engine API)', async () => {
    const lines: string[] = [];
    const manager = codeEngineRuntimeManager(deps);
    const info = await manager.deploy(opts(section, { name: 'burst-a', memoryMB: 1024, log: (l) => lines.push(l) }));
    assert.deepEqual([built.at(-1), pushed.at(-1)], [section.image, section.image]);
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.path}`),
      ['POST /identity/token', `GET ${APPS}/burst-a`, `POST ${APPS}`, `GET ${APPS}/burst-a`],
    );
    const app = JSON.parse(fake.seen[2]!.body) as Json;
    assert.equal(app.name, 'burst-a');
    assert.equal(app.image_reference, section.image);
    assert.equal(app.image_port, 8080);
    assert.equal(app.image_secret, 'icr-pull');
    assert.equal(app.scale_concurrency, 2);
    assert.equal(app.scale_concurrency_target, 2);
    // 2 × 1024 + 256 MiB is 2.4 GB: the next size Code Engine has with 1 vCPU is 4G.
    assert.equal(app.scale_memory_limit, '4G');
    assert.equal(app.scale_cpu_limit, '1');
    assert.equal(app.scale_request_timeout, 600);
    assert.deepEqual(app.probe_readiness, { type: 'http', path: '/healthz', port: 8080 });
    assert.deepEqual(
      app.run_env_variables.filter((v: Json) => v.name !== 'BURST_VERSION'),
      [
        { type: 'literal', name: CODE_ENGINE_MARKER, value: 'true' },
        { type: 'literal', name: 'BURST_SERVE_CONCURRENCY', value: '2' },
        { type: 'literal', name: 'LOG', value: '1' },
        { type: 'secret_key_reference', name: 'BURST_SERVE_TOKEN', reference: 'burst-serve-token', key: 'token' },
        { type: 'secret_key_reference', name: 'BURST_SIGNING_KEY', reference: 'burst-serve-token', key: 'signing-key' },
        { type: 'literal', name: 'BURST_STORAGE_CONFIG', value: JSON.stringify(STORAGE) },
        { type: 'literal', name: 'BURST_SERVE_BUCKETS', value: 'burst-data' },
      ],
    );
    assert.equal(info.name, 'burst-a');
    assert.equal(info.backend, 'code_engine');
    assert.equal(info.location, 'https://burst-a.abc.eu-de.codeengine.appdomain.cloud');
    assert.ok(info.burstVersion);
    assert.ok(
      lines.some((l) => l.includes('https://burst-a.abc.eu-de.codeengine.appdomain.cloud')),
      'deploy prints the URL',
    );
    assert.ok(
      !fake.seen.some((s) => s.path.includes(API_KEY) || (s.path !== '/identity/token' && s.body.includes(API_KEY))),
      'the API key goes to IAM only',
    );
  });

  test('deploy updates a Burst application with If-Match and merge-patch, and refuses one Burst did not create (mocked Code Engine API)', async () => {
    fake.apps.set('theirs', {
      name: 'theirs',
      image_reference: 'icr.io/them/app:1',
      run_env_variables: [{ type: 'literal', name: 'X', value: '1' }],
      status: 'ready',
      endpoint: 'https://theirs.example',
      entity_tag: '1',
    });
    const manager = codeEngineRuntimeManager(deps);
    const tag = fake.apps.get('burst-a')?.entity_tag as string;
    await manager.deploy(opts({ ...section, build: false, push: false, containerConcurrency: 3 }, { name: 'burst-a' }));
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.path}`),
      ['POST /identity/token', `GET ${APPS}/burst-a`, `PATCH ${APPS}/burst-a`, `GET ${APPS}/burst-a`],
    );
    const patch = fake.seen[2]!;
    assert.equal(patch.headers['if-match'], tag);
    assert.equal(patch.headers['content-type'], 'application/merge-patch+json');
    const body = JSON.parse(patch.body) as Json;
    assert.equal(body.name, undefined, 'the name is in the path');
    assert.equal(body.scale_concurrency, 3);
    fake.seen.length = 0;
    await assert.rejects(
      manager.deploy(opts({ ...section, build: false, push: false }, { name: 'theirs' })),
      (e: unknown) => e instanceof ConfigError && /not created by Burst/.test(e.message),
    );
    assert.deepEqual(
      fake.seen.map((s) => s.method),
      ['POST', 'GET'],
      'nothing is written to an application Burst did not create',
    );
  });

  test("an application that fails is an error with Code Engine's reason, and API errors say what was being done (mocked Code Engine API)", async () => {
    const manager = codeEngineRuntimeManager(deps);
    fake.failNext('ImagePullBackOff: unauthorized');
    await assert.rejects(
      manager.deploy(opts({ ...section, build: false, push: false }, { name: 'burst-b' })),
      (e: unknown) => e instanceof BurstError && /burst-b is not ready: ImagePullBackOff/.test(e.message),
    );
    await assert.rejects(
      manager.list(opts({ ...section, projectId: '00000000-0000-0000-0000-000000000000' })),
      (e: unknown) =>
        e instanceof BurstError &&
        e.code === 'RUNTIME_DEPLOY' &&
        /listing Code Engine applications failed \(HTTP 404\): Project not found/.test(e.message),
    );
  });

  test('list shows only applications marked BURST_MANAGED=true, with their URLs (mocked Code Engine API)', async () => {
    const manager = codeEngineRuntimeManager(deps);
    const listed = await manager.list(opts(section));
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.path}`),
      ['POST /identity/token', `GET ${APPS}?limit=100`],
    );
    assert.deepEqual(
      listed.map((i) => [i.name, i.location, i.details?.status]),
      [
        ['burst-a', 'https://burst-a.abc.eu-de.codeengine.appdomain.cloud', 'ready'],
        ['burst-b', '(no URL yet)', 'failed'],
      ],
    );
  });

  test('delete removes one Burst application or all of them, never another one (mocked Code Engine API)', async () => {
    const manager = codeEngineRuntimeManager(deps);
    await assert.rejects(
      manager.delete(opts(section, { name: 'theirs' })),
      (e: unknown) => e instanceof ConfigError && /not deleting it/.test(e.message),
    );
    assert.deepEqual(await manager.delete(opts(section, { name: 'gone' })), []);
    fake.seen.length = 0;
    assert.deepEqual(await manager.delete(opts(section)), ['burst-a', 'burst-b']);
    assert.deepEqual(
      fake.seen.filter((s) => s.method === 'DELETE').map((s) => s.path),
      [`${APPS}/burst-a`, `${APPS}/burst-b`],
    );
    assert.deepEqual([...fake.apps.keys()], ['theirs']);
  });

  test('a key IAM refuses is an error that does not show the key (mocked Code Engine API)', async () => {
    process.env.IBMCLOUD_API_KEY = 'wrong-key-abcdef';
    try {
      await assert.rejects(
        codeEngineRuntimeManager(deps).list(opts(section)),
        (e: unknown) =>
          e instanceof BurstError &&
          /IAM refused IBMCLOUD_API_KEY \(HTTP 400\): Provided API key could not be found/.test(e.message) &&
          !e.message.includes('wrong-key'),
      );
    } finally {
      process.env.IBMCLOUD_API_KEY = API_KEY;
    }
  });
});

describe('Code Engine options are checked before any request (mocked Code Engine API)', () => {
  const unreachable: CodeEngineRuntimeDeps = {
    iamUrl: 'http://127.0.0.1:9/never',
    apiUrl: () => assert.fail('no request may be made'),
    build: async () => assert.fail('nothing may be built'),
    push: async () => assert.fail('nothing may be pushed'),
  };
  after(() => {
    if (savedKey === undefined) delete process.env.IBMCLOUD_API_KEY;
    else process.env.IBMCLOUD_API_KEY = savedKey;
  });

  test('a missing region, project ID, API key or image names what to set (mocked Code Engine API)', async () => {
    process.env.IBMCLOUD_API_KEY = API_KEY;
    const manager = codeEngineRuntimeManager(unreachable);
    const keyPath = (k: string) => (e: unknown) => e instanceof ConfigError && e.keyPath === k;
    await assert.rejects(manager.list(opts({ projectId: PROJECT })), keyPath('code_engine.region'));
    await assert.rejects(manager.delete(opts({ region: 'eu-de' })), keyPath('code_engine.projectId'));
    await assert.rejects(
      manager.list(opts({ region: 'eu-de', projectId: 'my-project' })),
      (e: unknown) => e instanceof ConfigError && /ID \(a GUID\), not its name/.test(e.message),
    );
    await assert.rejects(manager.deploy(opts({ region: 'eu-de', projectId: PROJECT })), keyPath('code_engine.image'));
    await assert.rejects(
      manager.deploy(opts({ ...section, timeoutSeconds: 900 })),
      keyPath('code_engine.timeoutSeconds'),
    );
    await assert.rejects(
      manager.deploy(opts({ ...section, containerConcurrency: 100 }, { memoryMB: 1024 })),
      keyPath('code_engine.containerConcurrency'),
    );
    await assert.rejects(
      manager.deploy(opts(section, { name: 'Not_A_Name' })),
      (e: unknown) =>
        e instanceof ConfigError && e.keyPath === 'name' && /Code Engine application name must/.test(e.message),
    );
    delete process.env.IBMCLOUD_API_KEY;
    await assert.rejects(manager.list(opts(section)), keyPath('IBMCLOUD_API_KEY'));
  });

  test("the code_engine backend's runtime manager is this one", async () => {
    const manager = await runtimeManager('code_engine');
    await assert.rejects(
      manager.list(opts({})),
      (e: unknown) => e instanceof ConfigError && e.keyPath === 'code_engine.region',
    );
  });
});
