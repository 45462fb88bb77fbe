/**
 * Cloud Run with `gcloud` on PATH but not logged in (a fake `gcloud` script that fails as the real one
 * does): the calls fail with an InvocationError whose message says that gcloud failed, with its own
 * words, and which option to set instead. No request is sent to the service without a token.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { FunctionExecutor, InvocationError } from '../../src/index.ts';
import { addSeven } from '../fixtures/tasks.ts';
import { ensureCeph } from '../services.ts';

const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
const dir = await mkdtemp(join(tmpdir(), 'burst-cloudrun-token-'));
after(() => rm(dir, { recursive: true, force: true }));

test('a failing fake gcloud gives an InvocationError naming gcloud, its error and cloudrun.idToken', {
  timeout: 60_000,
  skip,
}, async () => {
  if ('skip' in ceph) return;
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await writeFile(
    join(bin, 'gcloud'),
    '#!/bin/sh\necho "ERROR: (gcloud.auth.print-identity-token) You do not currently have an active account selected." >&2\nexit 1\n',
  );
  await chmod(join(bin, 'gcloud'), 0o755);
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}${delimiter}${savedPath ?? ''}`;
  const fexec = new FunctionExecutor({
    backend: 'cloudrun',
    cloudrun: { url, signJobs: false },
    storage: 's3',
    s3: {
      endpoint: ceph.endpoint,
      region: ceph.region,
      accessKeyId: ceph.accessKeyId,
      secretAccessKey: ceph.secretAccessKey,
      forcePathStyle: true,
    },
    bucket: 'burst-errors-cloudrun-token',
    progress: false,
  });
  try {
    const err = await fexec
      .callAsync(addSeven, 1)
      .then((f) => fexec.getResult(f))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof InvocationError, `got ${String(err)}`);
    assert.match(
      err.message,
      /could not get a token: gcloud auth print-identity-token failed: ERROR: \(gcloud\.auth\.print-identity-token\) You do not currently have an active account selected\./,
    );
    assert.match(err.message, /pass cloudrun\.idToken/);
    assert.equal(requests, 0, 'nothing was sent without a token');
  } finally {
    process.env.PATH = savedPath;
    await fexec.clean().catch(() => undefined);
    await fexec.close();
    server.close();
  }
});
