/**
 * examples/monte-carlo moved to the k8s and openwhisk backends by changing only `--backend` and
 * `--config`: against the FAKE Kubernetes API server (pods as real `burst worker job` processes) and
 * the FAKE OpenWhisk controller and invoker (real `burst worker openwhisk` containers), storage on the
 * Ceph gateway. The numbers must equal the local run's, and the calls must have gone through the fakes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openWhiskRuntimeManager } from '../../src/backends/openwhisk/runtime.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { FakeKubernetes } from '../backends/fake-k8s.ts';
import { FakeOpenWhisk } from '../backends/fake-openwhisk.ts';
import { forecastNumbers, runExample, withTempDir } from './helpers.ts';

const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;

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

test('monte-carlo: the same numbers on k8s (fake API server) and openwhisk (fake controller) as on localhost', {
  skip,
  timeout: 400_000,
}, async () => {
  const k8s = new FakeKubernetes({ 'burst-worker:fake': 'process' });
  const AUTH = 'fake-uuid:monte-carlo-key';
  const ow = new FakeOpenWhisk(AUTH, { maxInFlight: 8, maxContainers: 2 });
  await Promise.all([k8s.start(), ow.start()]);
  try {
    await withTempDir(async (dir) => {
      await openWhiskRuntimeManager().deploy({
        backendOptions: { apiHost: ow.url, auth: AUTH, image: 'me/burst-worker:fake', build: false, push: false },
        storage: { driver: 's3', options: s3() },
        log: () => undefined,
      });
      const kconfig = join(dir, 'k8s.json');
      const oconfig = join(dir, 'openwhisk.json');
      const common = { storage: 's3', s3: s3(), bucket: 'burst-example-k8s-ow' };
      await writeFile(
        kconfig,
        JSON.stringify({
          ...common,
          k8s: { image: 'burst-worker:fake', kubeconfig: await k8s.kubeconfig(dir), parallelism: 2 },
        }),
      );
      await writeFile(oconfig, JSON.stringify({ ...common, openwhisk: { apiHost: ow.url, auth: AUTH } }));
      const local = await runExample('monte-carlo', ['--small', '--svg', join(dir, 'a.svg')], join(dir, 'local'));
      const onK8s = await runExample(
        'monte-carlo',
        ['--small', '--backend', 'k8s', '--config', kconfig, '--svg', join(dir, 'b.svg')],
        join(dir, 'unused'),
        180_000,
      );
      const onOw = await runExample(
        'monte-carlo',
        ['--small', '--backend', 'openwhisk', '--config', oconfig, '--svg', join(dir, 'c.svg')],
        join(dir, 'unused'),
        180_000,
      );
      assert.equal(forecastNumbers(onK8s.stdout), forecastNumbers(local.stdout));
      assert.equal(forecastNumbers(onOw.stdout), forecastNumbers(local.stdout));
      assert.ok(k8s.started.length > 0, 'pods ran the calls');
      assert.ok(ow.counters.runs > 0, 'activations ran the calls');
    });
  } finally {
    await Promise.all([k8s.stop(), ow.stop()]);
  }
});
