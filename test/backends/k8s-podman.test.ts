/**
 * The worker image for real under the k8s backend, where podman works: the image `burst runtime
 * build` writes, built with podman, each pod of the Indexed Job run as a container of it by the FAKE
 * kubelet (test/backends/fake-k8s.ts), with the UID OpenShift's restricted SCC would pick (an
 * arbitrary one, group 0), storage on the Ceph gateway. Skipped (with the reason) without podman or
 * a `node:20-slim` base image (see knative-container.test.ts and scripts/services/podman-base.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor } from '../../src/index.ts';
import { buildImage, pickBuilder } from '../../src/runtime/image-build.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { addSeven } from '../fixtures/tasks.ts';
import { FakeKubernetes } from './fake-k8s.ts';

const BASE = 'docker.io/library/node:20-slim';
const IMAGE = 'localhost/burst-worker:k8s-test';

function podman(args: string[]): Promise<number> {
  return new Promise((resolve) => execFile('podman', args, (err) => resolve(err ? 1 : 0)));
}

async function whyNot(): Promise<string | undefined> {
  try {
    await pickBuilder('podman');
  } catch (err) {
    return `podman is not usable here: ${(err as Error).message}`;
  }
  if ((await podman(['image', 'exists', BASE])) !== 0)
    return `no ${BASE} base image here (scripts/services/podman-base.sh start makes one)`;
  const ceph = await ensureCeph();
  return 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
}

test('k8s: pods of the runtime image under podman, as an arbitrary UID in group 0 (OpenShift), run a map', {
  timeout: 900_000,
}, async (t) => {
  const reason = await whyNot();
  if (reason) return t.skip(reason);
  const ceph = (await ensureCeph()) as CephService;
  const dir = await mkdtemp(join(tmpdir(), 'burst-k8s-image-'));
  // The arbitrary UID of OpenShift's restricted SCC: not in the image's /etc/passwd, group 0.
  const fake = new FakeKubernetes({ [IMAGE]: 'podman' }, ['--user', '1000770000:0']);
  try {
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'k8s-image-test', version: '1.0.0', type: 'module' }),
    );
    await buildImage({
      projectDir: dir,
      builder: 'podman',
      image: IMAGE,
      buildArgs: ['--network=host', '--pull=never'],
      log: () => undefined,
    });
    await fake.start();
    const fexec = new FunctionExecutor({
      backend: 'k8s',
      k8s: { image: IMAGE, kubeconfig: await fake.kubeconfig(dir), namespace: 'burst-podman' },
      storage: 's3',
      s3: {
        endpoint: ceph.endpoint,
        region: ceph.region,
        accessKeyId: ceph.accessKeyId,
        secretAccessKey: ceph.secretAccessKey,
        forcePathStyle: true,
      },
      bucket: 'burst-k8s-podman',
      progress: false,
    });
    try {
      const futures = await fexec.map(addSeven, [1, 2, 3], { chunksize: 2 });
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10]);
      const pods = new Set(fake.started.map((p) => p.name));
      assert.equal(pods.size, 2, 'two chunks, two pods');
      for (const f of futures) assert.ok(pods.has(f.stats.hostname ?? ''), `call ${f.callId} ran in a pod container`);
    } finally {
      await fexec.close();
    }
  } finally {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
