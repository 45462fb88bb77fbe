/**
 * examples/monte-carlo moved to the serverless backends by changing only `--backend` and `--config`,
 * as the README tells a user to: on the knative backend over three `burst worker serve` hosts in their
 * own network namespaces, and on aws_lambda through the local Invoke API emulator (the real worker
 * bundle), both with storage on the Ceph gateway. The numbers must equal the local run's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../../src/version.ts';
import { buildWorkerBundle } from '../../src/backends/aws_lambda/build.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { ensureServeHosts, startServe, type ServeHosts } from '../serve-hosts.ts';
import { LambdaEmulator } from '../backends/lambda-emulator.ts';
import { forecastNumbers, runExample, withTempDir } from './helpers.ts';

const [ceph, net] = await Promise.all([ensureCeph(), ensureServeHosts()]);
const noCeph = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;

function s3(endpoint: string): Record<string, unknown> {
  const c = ceph as CephService;
  return {
    endpoint,
    region: c.region,
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    forcePathStyle: true,
  };
}

test('monte-carlo: the same numbers on the knative backend (3 burst worker serve hosts)', {
  skip: noCeph ?? ('skip' in net ? net.skip : undefined),
  timeout: 240_000,
}, async () => {
  const hosts = net as ServeHosts;
  const port = new URL((ceph as CephService).endpoint).port || '80';
  // Secured as the README deploys them: a token, a signing key, and their own storage configuration.
  const token = 'monte-carlo-serve-token';
  const signingKey = 'monte-carlo-signing-key-0123456789';
  const storage = JSON.stringify({ driver: 's3', options: s3(`http://${hosts.hostAddr}:${port}`) });
  const servers = await Promise.all(
    hosts.hosts.map((host, i) =>
      startServe({
        host,
        addr: hosts.addrs[i] as string,
        port: 0,
        args: ['--storage-config', storage],
        env: { BURST_SERVE_TOKEN: token, BURST_SIGNING_KEY: signingKey },
      }),
    ),
  );
  try {
    await withTempDir(async (dir) => {
      const config = join(dir, 'burst.config.json');
      await writeFile(
        config,
        JSON.stringify({
          backend: 'knative',
          storage: 's3',
          bucket: 'burst-example-knative',
          s3: s3(`http://${hosts.hostAddr}:${port}`),
          signingKey,
          knative: { urls: servers.map((s) => s.url), token },
        }),
      );
      const local = await runExample('monte-carlo', ['--small', '--svg', join(dir, 'a.svg')], join(dir, 'local'));
      const remote = await runExample(
        'monte-carlo',
        ['--small', '--backend', 'knative', '--config', config, '--svg', join(dir, 'b.svg')],
        join(dir, 'unused'),
        180_000,
      );
      assert.equal(forecastNumbers(remote.stdout), forecastNumbers(local.stdout));
      const served = (await Promise.all(servers.map((s) => s.health()))).reduce((n, h) => n + h.served, 0);
      assert.ok(served > 0, 'the calls went through the serve hosts');
    });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
});

test('monte-carlo: the same numbers on aws_lambda (local Invoke API emulator)', {
  skip: noCeph,
  timeout: 240_000,
}, async () => {
  const codeDir = await mkdtemp(join(tmpdir(), 'burst-lambda-code-'));
  const emu = new LambdaEmulator();
  try {
    await buildWorkerBundle(codeDir);
    await emu.start();
    // What `burst runtime deploy` names the default runtime at the default 1024 MB.
    emu.deploy({
      name: `burst-default-1024mb-${VERSION.replace(/[^A-Za-z0-9]/g, '_')}`,
      codeDir,
      memoryMB: 1024,
      timeoutS: 120,
    });
    await withTempDir(async (dir) => {
      const config = join(dir, 'burst.config.json');
      await writeFile(
        config,
        JSON.stringify({
          backend: 'aws_lambda',
          storage: 's3',
          bucket: 'burst-example-lambda',
          s3: s3((ceph as CephService).endpoint),
          aws_lambda: { region: 'us-east-1', endpoint: emu.url },
        }),
      );
      const local = await runExample('monte-carlo', ['--small', '--svg', join(dir, 'a.svg')], join(dir, 'local'));
      // The client's SDK signs its requests to the emulator, which checks no signature.
      process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEMULATOR';
      process.env.AWS_SECRET_ACCESS_KEY ??= 'emulator';
      const remote = await runExample(
        'monte-carlo',
        ['--small', '--backend', 'aws_lambda', '--config', config, '--svg', join(dir, 'b.svg')],
        join(dir, 'unused'),
        180_000,
      );
      assert.equal(forecastNumbers(remote.stdout), forecastNumbers(local.stdout));
      assert.ok(
        emu.received.some((r) => r.invocationType === 'Event'),
        'the calls went through Lambda invocations',
      );
    });
  } finally {
    await emu.stop();
    await rm(codeDir, { recursive: true, force: true });
  }
});
