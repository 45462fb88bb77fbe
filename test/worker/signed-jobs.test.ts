/**
 * Signed jobs (security/signing.ts): the canonical encoding, what a signature binds (every manifest
 * field, the bucket and the job key), the key checks, and the backend-agnostic worker path: `burst
 * worker run` (what Slurm and the Lambda handler run) with BURST_SIGNING_KEY refuses an unsigned
 * or altered job before its code loads, and runs a job signed with its key.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, IntegrityError } from '../../src/errors.ts';
import { FunctionExecutor } from '../../src/index.ts';
import { canonicalJson, resolveSigningKey, signManifest, verifyManifest } from '../../src/security/signing.ts';
import { keys } from '../../src/job/layout.ts';
import type { JobManifest } from '../../src/job/manifest.ts';
import type { StoredStatus } from '../../src/job/status.ts';
import { BUCKET, SIGNING_KEY, forgeJob, fsConfig } from './serve-fixtures.ts';

const KEY = 'unit-test-signing-key-0123456789';
const ref = { bucket: 'burst', jobKey: 'burst/jobs/e1/M000' };
const manifest = {
  format: 1,
  burstVersion: '0.1.0',
  executorId: 'e1',
  jobId: 'M000',
  callCount: 2,
  functionHash: 'a'.repeat(64),
  functionName: 'f',
  ranges: [0, 3, 3, 4],
  env: { A: '1', B: '2' },
  timeoutSeconds: 10,
  createdAt: 1,
  channel: 'storage',
};

describe('signing', () => {
  test('canonical JSON sorts keys at every level and is the same for any key order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { z: 0, y: null }], c: 'x' } }),
      '{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}',
    );
    const reordered = Object.fromEntries(Object.entries(manifest).reverse());
    assert.equal(signManifest(KEY, reordered as typeof manifest, ref), signManifest(KEY, manifest, ref));
  });

  test('a signed manifest verifies; any changed field, another place, or another key does not', () => {
    const signature = signManifest(KEY, manifest, ref);
    assert.match(signature, /^[0-9a-f]{64}$/);
    verifyManifest(KEY, { ...manifest, signature }, ref);
    const changes: Record<string, unknown>[] = [
      { functionHash: 'b'.repeat(64) },
      { env: { A: '1', B: '3' } },
      { env: { A: '1', B: '2', NODE_OPTIONS: '--require /tmp/x' } },
      { callCount: 3 },
      { ranges: [0, 3, 3, 5] },
      { timeoutSeconds: 11 },
      { args: 'AAAA' },
      { runtimeMemoryMB: 64 },
      { burstVersion: '0.1.1' },
    ];
    for (const change of changes) {
      assert.throws(
        () => verifyManifest(KEY, { ...manifest, ...change, signature }, ref),
        (e: unknown) => e instanceof IntegrityError && /does not match its contents/.test(e.message),
        JSON.stringify(change),
      );
    }
    assert.throws(
      () => verifyManifest(KEY, { ...manifest, signature }, { ...ref, jobKey: 'burst/jobs/e1/M001' }),
      IntegrityError,
      'a signed job copied to another key',
    );
    assert.throws(
      () => verifyManifest(KEY, { ...manifest, signature }, { ...ref, bucket: 'other' }),
      IntegrityError,
      'a signed job copied to another bucket',
    );
    assert.throws(() => verifyManifest('another-key-of-sixteen-plus', { ...manifest, signature }, ref), IntegrityError);
    assert.throws(() => verifyManifest(KEY, { ...manifest, signature: 'zz' }, ref), IntegrityError);
    assert.throws(
      () => verifyManifest(KEY, manifest, ref),
      (e: unknown) =>
        e instanceof IntegrityError && /is not signed/.test(e.message) && e.key === 'burst/jobs/e1/M000/job.json',
    );
  });

  test('the key comes from the option, else BURST_SIGNING_KEY; set but empty or short is a ConfigError', () => {
    assert.equal(resolveSigningKey(undefined, {}), undefined);
    assert.equal(resolveSigningKey(KEY, { BURST_SIGNING_KEY: 'ignored-because-explicit' }), KEY);
    assert.equal(resolveSigningKey(undefined, { BURST_SIGNING_KEY: KEY }), KEY);
    assert.throws(
      () => resolveSigningKey(undefined, { BURST_SIGNING_KEY: '' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.keyPath === 'BURST_SIGNING_KEY' &&
        /at least 16 characters.*got 0 characters/.test(e.message),
    );
    assert.throws(
      () => resolveSigningKey('short', {}),
      (e: unknown) => e instanceof ConfigError && e.keyPath === 'signingKey',
    );
    assert.throws(
      () => resolveSigningKey(42, {}),
      (e: unknown) => e instanceof ConfigError && /got 42/.test(e.message),
    );
    assert.throws(
      () => new FunctionExecutor({ signingKey: 'short' }),
      (e: unknown) => e instanceof ConfigError && e.keyPath === 'signingKey',
      'checked at construction',
    );
  });
});

describe('burst worker run with BURST_SIGNING_KEY (the Slurm and Lambda worker path)', () => {
  const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'burst-signed-run-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const workerRun = (jobKey: string, key: string | undefined): Promise<void> =>
    new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...(key ? { BURST_SIGNING_KEY: key } : {}),
      };
      execFile(
        process.execPath,
        [cli, 'worker', 'run', '--job', jobKey, '--calls', '0', '--storage-config', fsConfig(root)],
        { env },
        (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve()),
      );
    });
  const status = async (jobKey: string): Promise<StoredStatus> =>
    JSON.parse(await readFile(join(root, BUCKET, keys.status(jobKey, 0)), 'utf8')) as StoredStatus;
  /** Signs the job's stored manifest with `key`, as a client with that key would have written it. */
  const sign = async (jobKey: string, key: string): Promise<void> => {
    const file = join(root, BUCKET, keys.manifest(jobKey));
    const m = JSON.parse(await readFile(file, 'utf8')) as JobManifest;
    await writeFile(file, JSON.stringify({ ...m, signature: signManifest(key, m, { bucket: BUCKET, jobKey }) }));
  };

  test('an unsigned job is refused with an integrity status and its bundle never runs', async () => {
    const marker = join(root, 'unsigned-ran');
    const jobKey = await forgeJob(root, marker);
    await workerRun(jobKey, SIGNING_KEY);
    const s = await status(jobKey);
    assert.equal(s.error?.kind, 'integrity');
    assert.match(s.error?.message ?? '', /is not signed/);
    assert.equal(existsSync(marker), false);
  });

  test("a job signed with another key is refused; signed with the worker's key it runs", async () => {
    const marker = join(root, 'signed-ran');
    const jobKey = await forgeJob(root, marker);
    await sign(jobKey, 'some-other-clients-key-0123456789');
    await workerRun(jobKey, SIGNING_KEY);
    assert.match((await status(jobKey)).error?.message ?? '', /does not match its contents/);
    assert.equal(existsSync(marker), false);
    await sign(jobKey, SIGNING_KEY);
    await workerRun(jobKey, SIGNING_KEY);
    assert.equal((await status(jobKey)).ok, true);
    assert.equal(existsSync(marker), true, 'the signed job ran');
  });

  test('without a key the worker runs unsigned jobs (signing is opt-in off the network backends)', async () => {
    const marker = join(root, 'nokey-ran');
    const jobKey = await forgeJob(root, marker);
    await workerRun(jobKey, undefined);
    assert.equal((await status(jobKey)).ok, true);
    assert.equal(existsSync(marker), true);
  });
});
