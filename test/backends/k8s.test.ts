/**
 * The k8s backend through the real `@kubernetes/client-node` against a FAKE Kubernetes API server
 * (test/backends/fake-k8s.ts) whose fake kubelet runs every pod of an Indexed Job as a real `burst
 * worker job` process (this repository's dist/ standing for the image), with storage on the Ceph
 * gateway: the shared backend suite, then the paths the platform adds (OOMKilled, ImagePullBackOff,
 * SIGTERM, the Job's spec, bad options, burst runtime list/delete of Jobs).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  FunctionExecutor,
  OutOfMemoryError,
  WorkerCrashError,
  type ExecutorOptions,
} from '../../src/index.ts';
import { k8sRuntimeManager } from '../../src/backends/k8s/runtime.ts';
import { openStorageConfig } from '../../src/storage/index.ts';
import { keys } from '../../src/job/layout.ts';
import { readJobStatuses } from '../../src/job/reader.ts';
import { kubernetesApi } from '../../src/backends/k8s/api.ts';
import { addSeven, misbehave, sleepMs, type Act } from '../fixtures/tasks.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { backendSuite } from './suite.ts';
import { FakeKubernetes } from './fake-k8s.ts';

const IMAGE = 'burst-worker:fake';
const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
const fake = new FakeKubernetes({ [IMAGE]: 'process' });
let dir = '';
let kubeconfig = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'burst-k8s-'));
  await fake.start();
  kubeconfig = await fake.kubeconfig(dir);
});
after(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

function options(k8s: Record<string, unknown> = {}, bucket = 'burst-k8s-suite'): ExecutorOptions {
  const c = ceph as CephService;
  return {
    backend: 'k8s',
    k8s: { image: IMAGE, kubeconfig, namespace: 'burst-test', ...k8s },
    storage: 's3',
    s3: {
      endpoint: c.endpoint,
      region: c.region,
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      forcePathStyle: true,
    },
    bucket,
    progress: false,
  };
}

backendSuite('k8s (fake Kubernetes API server, pods as real burst worker job processes, s3 on Ceph)', {
  skip: async () => skip,
  options: async () => options(),
});

test('k8s: one Indexed Job per map with the typed options in its spec; one pod per chunk', { skip }, async () => {
  const fexec = new FunctionExecutor(
    options({
      parallelism: 2,
      serviceAccount: 'burst-runner',
      nodeSelector: { pool: 'batch' },
      imagePullSecrets: ['regcred'],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'burst', effect: 'NoSchedule' }],
      cpu: 0.5,
      ttlSecondsAfterFinished: 30,
    }),
  );
  try {
    const before = fake.started.length;
    const futures = await fexec.map(addSeven, [1, 2, 3, 4, 5], { chunksize: 2 });
    assert.deepEqual(await fexec.getResult(futures), [8, 9, 10, 11, 12]);
    const pods = fake.started.slice(before);
    assert.deepEqual(pods.map((p) => p.index).sort(), [0, 1, 2], 'three chunks of 2, 2 and 1 calls: three pods');
    const job = fake.job(pods[0]?.name.replace(/-\d+-[0-9a-f]+$/, '') ?? '');
    assert.ok(job, 'the Job is in the API server');
    const spec = job.spec;
    assert.equal(spec.completionMode, 'Indexed');
    assert.equal(spec.completions, 3);
    assert.equal(spec.parallelism, 2);
    assert.equal(spec.backoffLimitPerIndex, 0);
    assert.equal(spec.ttlSecondsAfterFinished, 30);
    const pod = spec.template.spec;
    assert.equal(pod.serviceAccountName, 'burst-runner');
    assert.deepEqual(pod.nodeSelector, { pool: 'batch' });
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal(pod.tolerations[0].value, 'burst');
    assert.equal(pod.containers[0].resources.limits.cpu, '0.5');
    assert.deepEqual(
      [...new Set(Array.from(futures, (f) => f.stats.hostname))].length,
      3,
      'each chunk ran in its own pod',
    );
    assert.match(futures[0]?.stats.location?.text ?? '', /^kubectl logs -n burst-test burst-/);
  } finally {
    await fexec.close();
  }
});

test('k8s: a pod killed over its memory limit (OOMKilled) fails its calls as OutOfMemoryError with the reason', {
  skip,
}, async () => {
  const fexec = new FunctionExecutor(options({ memoryMB: 200 }));
  try {
    const futures = await fexec.map(misbehave, ['oom', { ok: 2 }] as Act[]);
    const [oom, ok] = await fexec.getResult(futures, { throwOnError: false });
    assert.ok(oom instanceof OutOfMemoryError, `got ${String(oom)}`);
    assert.match(oom.message, /OOMKilled/);
    assert.match(oom.message, /exit code 137/);
    assert.equal(ok, 4, 'the other chunk is a pod of its own and finished');
  } finally {
    await fexec.close();
  }
});

test('k8s: an image the node cannot pull is reported with ImagePullBackOff, not a hang', { skip }, async () => {
  const fexec = new FunctionExecutor(options({ image: 'registry.invalid/nope:1' }));
  try {
    const futures = await fexec.map(addSeven, [1]);
    const [err] = await fexec.getResult(futures, { throwOnError: false });
    assert.ok(err instanceof WorkerCrashError, `got ${String(err)}`);
    assert.match(err.message, /ImagePullBackOff/);
  } finally {
    await fexec.close();
  }
});

test('k8s: deleting the Job SIGTERMs its pods: the worker cancels its calls and exits 143', {
  skip,
}, async () => {
  const fexec = new FunctionExecutor(options());
  const before = fake.started.length;
  const futures = await fexec.map(sleepMs, [60_000]);
  // Wait for the pod to start its call (a status "running" is not written; the process is enough).
  for (let i = 0; fake.started.length === before && i < 200; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  await fexec.close(); // deletes the Job
  const pod = fake.started[before];
  for (let i = 0; pod?.exitCode === undefined && i < 200; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(pod?.exitCode, 143, 'the worker exited with 143 after SIGTERM, within the grace period');
  assert.equal(futures[0]?.status, 'error');
  // The status in storage was written by the worker, not invented by the client.
  const storage = await openStorageConfig({ driver: 's3', options: options().s3 as Record<string, unknown> });
  try {
    const jobKey = keys.job(fexec.executorId, futures[0]?.jobId ?? '');
    const [status] = await readJobStatuses(storage, 'burst-k8s-suite', jobKey);
    assert.equal(status?.error?.kind, 'cancelled');
    assert.match(status?.error?.message ?? '', /the pod was stopped \(SIGTERM\)/);
  } finally {
    await storage.close?.();
  }
});

test('k8s: bad options are ConfigErrors naming the key', async () => {
  for (const [k8s, key] of [
    [{ parallelism: 0 }, 'k8s.parallelism'],
    [{ tolerations: [{ effect: 'Sometimes' }] }, 'k8s.tolerations'],
    [{ namespace: 'Not_A_Namespace' }, 'k8s.namespace'],
    [{ nodeSelector: { a: 1 } }, 'k8s.nodeSelector'],
    [{ image: undefined }, 'k8s.image'],
  ] as const) {
    const fexec = new FunctionExecutor({
      backend: 'k8s',
      k8s: { image: IMAGE, kubeconfig, ...k8s } as never,
      progress: false,
    });
    try {
      await assert.rejects(
        fexec.map(addSeven, [1]),
        (e: unknown) => e instanceof ConfigError && String(e.keyPath).startsWith(key) && e.message.includes(key),
        key,
      );
    } finally {
      await fexec.close();
    }
  }
});

test('k8s: burst runtime list shows the Jobs Burst made; delete removes the finished ones only', { skip }, async () => {
  const api = await kubernetesApi({ kubeconfig });
  const manager = k8sRuntimeManager({ api: async () => api });
  const o = { backendOptions: { kubeconfig, namespace: 'burst-test' }, log: () => undefined };
  const fexec = new FunctionExecutor(options());
  try {
    await fexec.getResult(await fexec.map(addSeven, [1]));
    const running = await fexec.map(sleepMs, [30_000]);
    const listed = await manager.list(o);
    assert.ok(listed.some((r) => r.details?.state === 'complete'));
    assert.ok(listed.some((r) => r.details?.state === 'running'));
    const deleted = await manager.delete(o);
    const after = (await manager.list(o)).map((r) => r.name);
    assert.ok(deleted.length > 0 && deleted.every((n) => !after.includes(n)));
    assert.ok(
      (await manager.list(o)).every((r) => r.details?.state === 'running'),
      'the running Job is kept',
    );
    void running;
  } finally {
    await fexec.close();
  }
});
