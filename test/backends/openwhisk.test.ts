/**
 * The openwhisk backend over the REST API against a FAKE OpenWhisk controller and invoker
 * (test/backends/fake-openwhisk.ts) whose action containers are real `burst worker openwhisk`
 * processes driven by the action protocol (`/init`, then `/run` one at a time, activation deadlines),
 * with storage on the Ceph gateway: the action is deployed by the runtime manager, then the shared
 * backend suite, 429 back-off, activation ids in stats, deadlines and bad options.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, ConfigError, FunctionExecutor, type ExecutorOptions } from '../../src/index.ts';
import { openWhiskRuntimeManager } from '../../src/backends/openwhisk/runtime.ts';
import { addSeven, sleepMs } from '../fixtures/tasks.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { backendSuite } from './suite.ts';
import { FakeOpenWhisk } from './fake-openwhisk.ts';

const AUTH = 'fake-uuid:fake-key-0123456789';
const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
const fake = new FakeOpenWhisk(AUTH, { maxInFlight: 64, maxContainers: 4 });
const throttling = new FakeOpenWhisk(AUTH, { maxInFlight: 1, maxContainers: 1 });

function s3(): Record<string, unknown> {
  const c = ceph as CephService;
  return {
    endpoint: c.endpoint,
    region: c.region,
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    forcePathStyle: true,
  };
}

function options(w: FakeOpenWhisk, openwhisk: Record<string, unknown> = {}): ExecutorOptions {
  return {
    backend: 'openwhisk',
    openwhisk: { apiHost: w.url, auth: AUTH, ...openwhisk },
    storage: 's3',
    s3: s3(),
    bucket: 'burst-openwhisk-suite',
    progress: false,
  };
}

/** `burst runtime deploy --backend openwhisk` with an image already built (build and push off). */
async function deploy(w: FakeOpenWhisk, extra: Record<string, unknown> = {}, name?: string): Promise<void> {
  await openWhiskRuntimeManager().deploy({
    backendOptions: { apiHost: w.url, auth: AUTH, image: 'me/burst-worker:fake', build: false, push: false, ...extra },
    storage: { driver: 's3', options: s3() },
    log: () => undefined,
    ...(name ? { name } : {}),
  });
}

before(async () => {
  await Promise.all([fake.start(), throttling.start()]);
  if (skip) return;
  await deploy(fake);
  await deploy(fake, { timeoutSeconds: 12 }, 'burst-short');
  await deploy(throttling);
});
after(async () => {
  await Promise.all([fake.stop(), throttling.stop()]);
});

backendSuite('openwhisk (fake controller and invoker, burst worker openwhisk containers, s3 on Ceph)', {
  skip: async () => skip,
  options: async () => options(fake),
});

test('openwhisk: the action was deployed as a blackbox image with the storage as an init parameter', {
  skip,
}, async () => {
  const manager = openWhiskRuntimeManager();
  const o = { backendOptions: { apiHost: fake.url, auth: AUTH }, log: () => undefined };
  const listed = await manager.list(o);
  assert.deepEqual(listed.map((r) => r.name).sort(), ['burst-short', 'burst-worker-0-1']);
  const action = fake.actions.get('burst-worker-0-1');
  assert.equal(action.exec.kind, 'blackbox');
  assert.equal(action.parameters[0].key, 'BURST_STORAGE_CONFIG');
  assert.equal(action.parameters[0].init, true);
  assert.ok(
    fake.counters.inits > 0 && fake.counters.inits === fake.counters.containers,
    'each container initialized once',
  );
});

test('openwhisk: activation ids are in stats.location, one activation per chunk', { skip }, async () => {
  const fexec = new FunctionExecutor(options(fake));
  try {
    const futures = await fexec.map(addSeven, [1, 2, 3], { chunksize: 2 });
    assert.deepEqual(await fexec.getResult(futures), [8, 9, 10]);
    const ids = Array.from(futures, (f) => f.stats.location?.activationId ?? '');
    assert.equal(new Set(ids).size, 2, 'two chunks, two activations');
    for (const id of ids) {
      assert.ok(fake.activations.has(id), `activation ${id} is one the controller made`);
      assert.ok(futures.some((f) => f.stats.location?.text === `wsk activation logs ${id}`));
    }
  } finally {
    await fexec.close();
  }
});

test('openwhisk: 429 (too many activations in flight) is retried with back-off until every call ran', {
  skip,
}, async () => {
  const fexec = new FunctionExecutor(options(throttling, { concurrency: 4 }));
  try {
    const before = throttling.counters.throttled;
    const futures = await fexec.map(sleepMs, [300, 300, 300, 300]);
    assert.deepEqual(await fexec.getResult(futures), [300, 300, 300, 300]);
    assert.ok(throttling.counters.throttled > before, 'the controller answered 429 at least once');
    assert.equal(new Set(Array.from(futures, (f) => f.stats.location?.activationId)).size, 4);
  } finally {
    await fexec.close();
  }
});

test('openwhisk: a call still running near the activation deadline is cancelled with a status, not lost', {
  skip,
  timeout: 60_000,
}, async () => {
  const fexec = new FunctionExecutor(options(fake, { action: 'burst-short' }));
  try {
    const futures = await fexec.map(sleepMs, [60_000]);
    const [err] = await fexec.getResult(futures, { throwOnError: false });
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.match(err.message, /deadline/);
  } finally {
    await fexec.close();
  }
});

test('openwhisk: a wrong key is a 401 naming openwhisk.auth; bad options are ConfigErrors naming the key', {
  skip,
}, async () => {
  const wrong = new FunctionExecutor(options(fake, { auth: 'fake-uuid:wrong' }));
  try {
    await assert.rejects(wrong.map(addSeven, [1]), /HTTP 401: openwhisk\.auth/);
  } finally {
    await wrong.close();
  }
  for (const [openwhisk, key] of [
    [{ apiHost: 'ftp://x' }, 'openwhisk.apiHost'],
    [{ auth: 'no-colon' }, 'openwhisk.auth'],
    [{ concurrency: 0 }, 'openwhisk.concurrency'],
    [{ apiHost: undefined }, 'openwhisk.apiHost'],
  ] as const) {
    const fexec = new FunctionExecutor({
      ...options(fake),
      openwhisk: { ...{ apiHost: fake.url, auth: AUTH }, ...openwhisk } as never,
    });
    try {
      await assert.rejects(
        fexec.map(addSeven, [1]),
        (e: unknown) => e instanceof ConfigError && e.message.includes(key),
        key,
      );
    } finally {
      await fexec.close();
    }
  }
});
