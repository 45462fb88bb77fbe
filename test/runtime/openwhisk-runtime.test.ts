/**
 * `burst runtime deploy|list|delete --backend openwhisk` against the FAKE OpenWhisk controller
 * (test/backends/fake-openwhisk.ts; no action runs here), and how the k8s backend reads pod states
 * the fake kubelet does not produce (Evicted, DeadlineExceeded, a pod still pending).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, InvocationError } from '../../src/index.ts';
import { openWhiskRuntimeManager } from '../../src/backends/openwhisk/runtime.ts';
import { podEnd } from '../../src/backends/k8s/backend.ts';
import { FakeOpenWhisk } from '../backends/fake-openwhisk.ts';

const AUTH = 'fake-uuid:runtime-key';
const fake = new FakeOpenWhisk(AUTH, { maxInFlight: 1, maxContainers: 1 });
before(() => fake.start());
after(() => fake.stop());

const storage = { driver: 's3', options: { endpoint: 'http://127.0.0.1:1', region: 'x' } };
const o = (extra: Record<string, unknown> = {}, name?: string) => ({
  backendOptions: { apiHost: fake.url, auth: AUTH, image: 'me/burst-worker:1', build: false, push: false, ...extra },
  storage,
  log: () => undefined,
  ...(name ? { name } : {}),
});

test('openwhisk runtime: deploy creates then updates the action; list and delete touch only Burst actions', async () => {
  const manager = openWhiskRuntimeManager();
  const first = await manager.deploy(o({ memoryMB: 512, timeoutSeconds: 30 }));
  assert.equal(first.name, 'burst-worker-0-1');
  assert.equal(first.memoryMB, 512);
  assert.equal(fake.actions.get('burst-worker-0-1').limits.timeout, 30_000);
  await manager.deploy(o({ image: 'me/burst-worker:2' }));
  assert.equal(fake.actions.get('burst-worker-0-1').exec.image, 'me/burst-worker:2', 'updated in place');
  // Someone else's action, without Burst's annotation.
  fake.actions.set('theirs', { name: 'theirs', namespace: 'guest', annotations: [], exec: { kind: 'blackbox' } });
  assert.deepEqual(
    (await manager.list(o())).map((r) => r.name),
    ['burst-worker-0-1'],
  );
  await assert.rejects(manager.deploy(o({ action: 'theirs' })), (e: unknown) => e instanceof ConfigError);
  await assert.rejects(manager.delete(o({}, 'theirs')), /not deployed by Burst/);
  assert.deepEqual(await manager.delete(o()), ['burst-worker-0-1']);
  assert.deepEqual([...fake.actions.keys()], ['theirs']);
});

test('openwhisk runtime: a wrong key is an InvocationError with HTTP 401; no apiHost is a ConfigError', async () => {
  const manager = openWhiskRuntimeManager();
  await assert.rejects(
    manager.list(o({ auth: 'fake-uuid:wrong' })),
    (e: unknown) => e instanceof InvocationError && e.status === 401,
  );
  await assert.rejects(
    manager.list({ backendOptions: { auth: AUTH }, log: () => undefined }),
    (e: unknown) => e instanceof ConfigError && e.keyPath === 'openwhisk.apiHost',
  );
});

test('k8s: pod states the fake kubelet does not make are read as Kubernetes reports them', () => {
  const evicted = podEnd({
    metadata: { name: 'p-0' },
    status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' },
  });
  assert.equal(evicted?.state, 'Evicted');
  assert.match(evicted?.reason ?? '', /p-0: The node was low on resource/);
  assert.equal(
    podEnd({ metadata: { name: 'p-1' }, status: { phase: 'Failed', reason: 'DeadlineExceeded' } })?.state,
    'DeadlineExceeded',
  );
  assert.equal(podEnd({ status: { phase: 'Pending' } }), undefined, 'a pending pod may still start');
  assert.equal(
    podEnd({
      status: { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }] },
    }),
    undefined,
  );
  assert.equal(podEnd({ status: { phase: 'Running', containerStatuses: [{ state: {} }] } }), undefined);
});
