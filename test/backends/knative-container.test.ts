/**
 * The worker image for real, where podman works: `burst runtime build` (the Dockerfile and build
 * context of src/runtime/dockerfile.ts) built with podman, run as a container, and a map run through
 * it by the knative backend with storage on the Ceph gateway.
 *
 * Skipped (with the reason) when podman is missing or no `node:20-slim` base image is present: this
 * machine reaches no container registry. To run it here, make a local stand-in once (Debian bookworm,
 * as the real image is, plus this host's node, npm and CA bundle):
 *   apt-get install -y podman runc debootstrap
 *   debootstrap --variant=minbase bookworm /tmp/rootfs http://deb.debian.org/debian
 *   cp "$(command -v node)" /tmp/rootfs/usr/local/bin/ && cp -a /usr/lib/node_modules/npm /tmp/rootfs/usr/local/lib/node_modules/
 *   ln -s ../lib/node_modules/npm/bin/npm-cli.js /tmp/rootfs/usr/local/bin/npm
 *   chroot /tmp/rootfs useradd -u 1000 -m node; cp /etc/ssl/certs/ca-certificates.crt /tmp/rootfs/etc/ssl/certs/
 *   tar -C /tmp/rootfs -c . | podman import --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - docker.io/library/node:20-slim
 * Podman needs `--runtime=runc` and explicit ulimits here (the defaults exceed what runc may set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor } from '../../src/index.ts';
import { buildImage, pickBuilder } from '../../src/runtime/image-build.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { addSeven } from '../fixtures/tasks.ts';

const BASE = 'docker.io/library/node:20-slim';
const IMAGE = 'localhost/burst-worker:test';
const TOKEN = 'container-test-token-0123456789';
const SIGNING_KEY = 'container-test-signing-key-0123456789';

function podman(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('podman', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}`.trim() }),
    );
  });
}

async function whyNot(): Promise<string | undefined> {
  try {
    await pickBuilder('podman');
  } catch (err) {
    return `podman is not usable here: ${(err as Error).message}`;
  }
  if ((await podman(['image', 'exists', BASE])).code !== 0)
    return `no ${BASE} base image here and no registry to pull it from (see this file's header to make a local one)`;
  const ceph = await ensureCeph();
  return 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

test('the runtime image built with podman serves a map as a container (knative backend, s3 on Ceph)', {
  timeout: 600_000,
}, async (t) => {
  const reason = await whyNot();
  if (reason) return t.skip(reason);
  const ceph = (await ensureCeph()) as CephService;
  const project = await mkdtemp(join(tmpdir(), 'burst-image-'));
  let container: string | undefined;
  try {
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'image-test', version: '1.0.0', type: 'module', dependencies: {} }),
    );
    const log: string[] = [];
    // --network=host: npm in the build reaches the registry the way this host does.
    await buildImage({
      projectDir: project,
      builder: 'podman',
      image: IMAGE,
      buildArgs: ['--network=host', '--pull=never'],
      log: (l) => log.push(l),
    });
    const port = await freePort();
    const s3 = {
      endpoint: ceph.endpoint,
      region: ceph.region,
      accessKeyId: ceph.accessKeyId,
      secretAccessKey: ceph.secretAccessKey,
      forcePathStyle: true,
    };
    // What "burst runtime deploy" puts in the service's environment: the worker refuses to start without them.
    const secrets = [
      '-e',
      `BURST_SERVE_TOKEN=${TOKEN}`,
      '-e',
      `BURST_SIGNING_KEY=${SIGNING_KEY}`,
      '-e',
      `BURST_STORAGE_CONFIG=${JSON.stringify({ driver: 's3', options: s3 })}`,
    ];
    const run = await podman([
      'run',
      '-d',
      '--rm',
      '--runtime=runc',
      '--ulimit',
      'nofile=20000:20000',
      '--ulimit',
      'nproc=4096:4096',
      '--network=host',
      '-e',
      `PORT=${port}`,
      '-e',
      'BURST_HOSTNAME=burst-container',
      ...secrets,
      IMAGE,
    ]);
    assert.equal(run.code, 0, run.out);
    container = run.out.split('\n').pop();
    const url = `http://127.0.0.1:${port}`;
    // Bounded wait for the container to listen: a failure to start shows its logs instead of a hang.
    for (let i = 0; ; i++) {
      if (
        await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i === 300) assert.fail(`the container did not listen: ${(await podman(['logs', container as string])).out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const fexec = new FunctionExecutor({
      backend: 'knative',
      knative: { url, token: TOKEN },
      signingKey: SIGNING_KEY,
      storage: 's3',
      s3,
      bucket: 'burst-knative-container',
      progress: false,
    });
    try {
      const futures = await fexec.map(addSeven, [1, 2, 3]);
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10]);
      assert.deepEqual([...new Set(Array.from(futures, (f) => f.stats.hostname))], ['burst-container']);
    } finally {
      await fexec.close();
    }
  } finally {
    if (container) await podman(['stop', '-t', '10', container]);
    await rm(project, { recursive: true, force: true });
  }
});
