/**
 * A small run of the fan-out model (bench/fanout): the real client (FunctionExecutor, the aws_lambda
 * backend, the s3 driver) against a modelled Lambda Invoke API and an S3 proxy over the fs driver
 * that counts every request. Asserts the storage requests per call by kind and key class, and that a
 * poll costs one LIST page whether the job has 100 or 1,100 calls (before the fix, a poll listed
 * every status object: two pages and more past 1,000 calls). No timing is asserted. The platform is
 * modelled (a "fake" Lambda): see bench/fanout/README.md for what is real.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor } from '../../src/index.ts';
import { fs } from '../../src/storage/index.ts';
import { LambdaModel } from '../../bench/fanout/lambda-model.ts';
import { startS3Server } from '../../bench/fanout/s3-server.ts';
import { modelledDriver, StorageModel } from '../../bench/fanout/storage-model.ts';
import { modelTask } from '../../bench/fanout/task.ts';

let root: string;
let servers: Server[] = [];
const model = new StorageModel();
let lambda: LambdaModel;
let urls: { s3: string; lambda: string };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-fanout-test-'));
  const store = fs({ root: join(root, 'store') });
  // A low account limit, so invocations meet 429s and environments are reused.
  lambda = new LambdaModel((env) => modelledDriver(store, model, env), join(root, 'runtime'), {
    accountConcurrency: 100,
  });
  const s3 = await startS3Server(store, model);
  const api = await lambda.start();
  servers = [s3.server, api.server];
  urls = { s3: s3.url, lambda: api.url };
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDFANOUTMODEL';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'fanout-model';
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await rm(root, { recursive: true, force: true });
});

/** Runs `calls` calls through the model; returns the storage counts, the monitor's polls and the Lambda counts. */
async function run(calls: number) {
  model.reset();
  lambda.reset();
  const fexec = new FunctionExecutor({
    backend: 'aws_lambda',
    storage: 's3',
    s3: { endpoint: urls.s3, region: 'us-east-1', accessKeyId: 'm', secretAccessKey: 'm', forcePathStyle: true },
    bucket: `fanout-test-${calls}`,
    aws_lambda: { endpoint: urls.lambda, region: 'us-east-1' },
    progress: false,
  });
  try {
    const futures = await fexec.map(
      modelTask,
      Array.from({ length: calls }, () => ({ workMs: 5, resultBytes: 16 })),
    );
    const results = (await fexec.getResult(futures)) as string[];
    assert.equal(results.length, calls);
    assert.ok(results.every((r) => r === 'x'.repeat(16)));
    const counters = fexec.counters();
    return {
      requests: model.counts.requests,
      polls: counters['storage.list'] ?? 0,
      invokes: (counters['backend.invokes'] ?? 0) - (counters['backend.throttled'] ?? 0),
      lambda: lambda.counts,
    };
  } finally {
    await fexec.close();
  }
}

const n = (r: Record<string, number>, label: string): number => r[label] ?? 0;

for (const calls of [100, 1100]) {
  test(`fan-out model, ${calls} calls: 3 storage requests per call plus reads once per environment; one LIST page per poll (fake Lambda)`, async () => {
    const { requests: r, polls, invokes, lambda: l } = await run(calls);
    // Per call: the worker's claim and status, and the client's read of the status (its result inline).
    assert.equal(n(r, 'worker PUT claim'), calls);
    assert.equal(n(r, 'worker PUT status'), calls);
    assert.equal(n(r, 'client GET status'), calls);
    // Per environment, not per call: the manifest, the small data object and the bundle.
    // (a worker keeps them for a while, job-cache.ts, so a long run may read them again: a few times
    // per environment, far fewer than once per call).
    const environments = lambda.environments;
    assert.ok(environments <= 100, `${environments} environments for an account limit of 100`);
    if (calls > 100) assert.ok(l.warmStarts > 0, 'environments were reused');
    for (const cls of ['manifest', 'data', 'bundle']) {
      const got = n(r, `worker GET ${cls}`);
      const most = calls > 100 ? calls / 3 : environments;
      assert.ok(
        got >= (cls === 'bundle' ? 0 : 1) && got <= most, // kept environments may hold the bundle already
        `worker GET ${cls}: ${got} for ${calls} calls on ${environments} environments`,
      );
    }
    // Nothing else per call: no output objects, no HEADs, no deletes but the lease's.
    assert.equal(n(r, 'worker PUT output') + n(r, 'client GET output'), 0);
    assert.ok(n(r, 'client HEAD bundle') <= 1);
    // Polling: one LIST page per poll whatever the number of calls.
    const pages = n(r, 'client LIST status');
    assert.ok(polls > 0);
    assert.equal(pages, polls, `${pages} LIST pages for ${polls} polls`);
    // Invocations accepted from the client: from 1,000 calls one, and the remote invoker sends the rest.
    assert.equal(invokes, calls >= 1000 ? 1 : calls);
    assert.equal(l.accepted, calls);
  });
}
