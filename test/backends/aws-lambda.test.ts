/**
 * The AWS Lambda backend against a local emulator of the Lambda Invoke API (./lambda-emulator.ts),
 * which runs the real Burst worker bundle (built as `burst runtime deploy` builds it) in execution
 * environments of its own, with storage on the real Ceph gateway: the shared backend suite, then
 * throttling, a missing function and the remote invoker. No AWS account is involved.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FunctionExecutor, BurstError, RemoteError, createStorage, type ExecutorOptions } from '../../src/index.ts';
import { VERSION } from '../../src/version.ts';
import { buildWorkerBundle } from '../../src/backends/aws_lambda/build.ts';
import { parseLambdaLocation } from '../../src/backends/aws_lambda/worker/event.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { backendSuite } from './suite.ts';
import { LambdaEmulator } from './lambda-emulator.ts';
import { addSeven, misbehave, type Act } from '../fixtures/tasks.ts';
import { dynamicImport, nestedMap, recordRun, squareOrConfigError } from '../fixtures/uses-burst.ts';

const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
// The client's SDK signs requests to the emulator; the emulator checks no signature.
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEMULATOR';
process.env.AWS_SECRET_ACCESS_KEY ??= 'emulator';

const v = VERSION.replace(/[^A-Za-z0-9]/g, '_');
const fn = (mb: number): string => `burst-default-${mb}mb-${v}`;

let started: Promise<LambdaEmulator> | undefined;
let codeDir: string | undefined;
/** One emulator for the file, with the worker bundle deployed at 1024 MB (default) and 128 MB. */
function emulator(): Promise<LambdaEmulator> {
  started ??= (async () => {
    codeDir = await mkdtemp(join(tmpdir(), 'burst-lambda-code-'));
    await buildWorkerBundle(codeDir);
    const emu = new LambdaEmulator();
    await emu.start();
    for (const mb of [1024, 128]) emu.deploy({ name: fn(mb), codeDir, memoryMB: mb, timeoutS: 120 });
    return emu;
  })();
  return started;
}

function options(emu: LambdaEmulator, bucket: string, lambda: Record<string, unknown> = {}): ExecutorOptions {
  const c = ceph as CephService;
  const s3 = {
    endpoint: c.endpoint,
    region: c.region,
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    forcePathStyle: true,
  };
  return {
    backend: 'aws_lambda',
    storage: 's3',
    s3,
    bucket,
    aws_lambda: { endpoint: emu.url, region: 'us-east-1', ...lambda },
    progress: false,
  };
}

after(async () => {
  if (started) await (await started).stop();
  if (codeDir) await rm(codeDir, { recursive: true, force: true });
});

backendSuite('aws_lambda (local Invoke API emulator, s3 on the Ceph gateway)', {
  skip: async () => skip,
  options: async () => options(await emulator(), 'burst-lambda-suite'),
});

describe('aws_lambda specifics (local Invoke API emulator)', { skip }, () => {
  let emu: LambdaEmulator;
  before(async () => {
    emu = await emulator();
  });

  test('invokes asynchronously, one Event invocation per chunk, and records the CloudWatch location of each call', async () => {
    const fexec = new FunctionExecutor(options(emu, 'burst-lambda-specifics'));
    try {
      const before = emu.received.length;
      const futures = await fexec.map(addSeven, [1, 2, 3, 4, 5], { chunksize: 2 });
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10, 11, 12]);
      const mine = emu.received.slice(before);
      assert.equal(mine.length, 3, 'five calls in chunks of two are three invocations');
      assert.ok(mine.every((r) => r.invocationType === 'Event' && r.status === 202 && r.functionName === fn(1024)));
      for (const f of futures) {
        const where = parseLambdaLocation(f.stats.location);
        assert.ok(where, `stats.location ${JSON.stringify(f.stats.location)} carries the log location`);
        assert.equal(f.stats.hostname, where.logStream, 'the log stream stands for the host');
        assert.equal(where.logGroup, `/aws/lambda/${fn(1024)}`);
        assert.match(where.logStream, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
        assert.match(where.requestId, /^[0-9a-f-]{36}$/);
      }
    } finally {
      await fexec.close();
    }
  });

  test("a failed call's error names where Lambda logged it (CloudWatch group, stream and request)", async () => {
    const fexec = new FunctionExecutor(options(emu, 'burst-lambda-specifics'));
    try {
      const [err] = await fexec.getResult(await fexec.map(misbehave, ['throw' as Act]), { throwOnError: false });
      assert.ok(err instanceof RemoteError, `got ${String(err)}`);
      assert.match(err.message, /QuotaError: quota exceeded/);
      assert.match(
        err.message,
        new RegExp(`\\(logs: CloudWatch log group /aws/lambda/${fn(1024)}, stream \\S+, request [0-9a-f-]{36}`),
      );
      assert.match(err.logLocation ?? '', /aws logs filter-log-events --log-group-name/);
    } finally {
      await fexec.close();
    }
  });

  test('a throttled invoke (429 TooManyRequestsException) is backed off and re-queued, and the map completes', async () => {
    const fexec = new FunctionExecutor(options(emu, 'burst-lambda-specifics', { invokeConcurrency: 2 }));
    try {
      const before = emu.received.length;
      emu.throttleNext = 5;
      const futures = await fexec.map(addSeven, [10, 20, 30]);
      assert.deepEqual(await fexec.getResult(futures), [17, 27, 37]);
      const mine = emu.received.slice(before);
      assert.equal(mine.filter((r) => r.status === 429).length, 5);
      assert.equal(
        mine.filter((r) => r.status === 202).length,
        3,
        'each call was accepted exactly once: no duplicate runs',
      );
      const counters = fexec.counters();
      assert.equal(counters['backend.throttled'], 5);
      assert.ok(
        futures.every((f) => f.status === 'success' && f.stats.attempt === 1),
        'throttling is not a failed attempt',
      );
    } finally {
      emu.throttleNext = 0;
      await fexec.close();
    }
  });

  test('a missing function is a typed error that names the function and the command that deploys it', async () => {
    const fexec = new FunctionExecutor(options(emu, 'burst-lambda-specifics', { runtime: 'nosuch' }));
    try {
      await assert.rejects(fexec.map(addSeven, [1]), (err: unknown) => {
        assert.ok(err instanceof BurstError, `got ${String(err)}`);
        assert.equal(err.code, 'RUNTIME_MISSING');
        assert.equal((err as BurstError & { functionName?: string }).functionName, `burst-nosuch-1024mb-${v}`);
        assert.match(
          err.message,
          new RegExp(
            `AWS Lambda function "burst-nosuch-1024mb-${v}" does not exist in us-east-1: run "npx burst runtime deploy --backend aws_lambda --memory 1024 nosuch"`,
          ),
        );
        return true;
      });
    } finally {
      await fexec.close();
    }
  });

  test('the remote invoker: 2,000 calls go out as one client invocation whose function invokes the rest', async () => {
    const fexec = new FunctionExecutor(
      options(emu, 'burst-lambda-specifics', { remoteInvoker: 1000, invokeConcurrency: 16 }),
    );
    try {
      const before = emu.received.length;
      const inputs = Array.from({ length: 2000 }, (_, i) => i);
      const futures = await fexec.map(addSeven, inputs, { chunksize: 50 });
      assert.equal(fexec.counters()['backend.invokes'], 1, 'the client sent one Invoke request');
      assert.deepEqual(
        await fexec.getResult(futures),
        inputs.map((x) => x + 7),
      );
      const mine = emu.received.slice(before).filter((r) => r.status === 202);
      assert.equal(mine.length, 40, '2,000 calls in chunks of 50 are 40 invocations');
      assert.equal(
        mine.filter((r) => JSON.parse(r.payload).fanout !== undefined).length,
        1,
        'only the first carries the fan-out',
      );
      const chunks = mine
        .map((r) => JSON.parse(r.payload).calls as string)
        .sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]));
      assert.deepEqual(
        chunks,
        Array.from({ length: 40 }, (_, i) => `${i * 50}-${i * 50 + 49}`),
      );
    } finally {
      await fexec.close();
    }
  });

  test('storage credentials: a profile never travels, and with storageCredentials "role" neither do keys', async () => {
    const fexec = new FunctionExecutor(options(emu, 'burst-lambda-specifics'));
    try {
      const before = emu.received.length;
      await fexec.getResult(await fexec.map(addSeven, [1]));
      const event = JSON.parse(emu.received[before]?.payload ?? '{}');
      assert.equal(event.storage.driver, 's3');
      assert.equal(event.storage.options.profile, undefined);
      assert.equal(
        typeof event.storage.options.accessKeyId,
        'string',
        'keys set explicitly in the s3 options travel (Ceph is not reachable with the role)',
      );
    } finally {
      await fexec.close();
    }
    const role = new FunctionExecutor(
      options(emu, 'burst-lambda-specifics', { storageCredentials: 'role', runtime: 'nosuch' }),
    );
    try {
      const before = emu.received.length;
      await assert.rejects(role.map(addSeven, [1]), /does not exist/);
      const event = JSON.parse(emu.received[before]?.payload ?? '{}');
      assert.equal(event.storage.options.accessKeyId, undefined);
      assert.equal(event.storage.options.secretAccessKey, undefined);
    } finally {
      await role.close();
    }
  });
});

describe('aws_lambda: a function whose module imports burst-compute (local Invoke API emulator)', { skip }, () => {
  let emu: LambdaEmulator;
  before(async () => {
    emu = await emulator();
  });
  const bucket = 'burst-lambda-self';

  test("a top-level import runs with the worker's own API: Storage writes once per call, error classes are branded", async () => {
    const fexec = new FunctionExecutor(options(emu, bucket));
    const c = ceph as CephService;
    const store = await createStorage({
      driver: 's3',
      options: {
        endpoint: c.endpoint,
        region: c.region,
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        forcePathStyle: true,
      },
    });
    try {
      const prefix = `runs-${randomUUID()}`;
      const inputs = [1, 2, 3, 4, 5];
      const futures = await fexec.map(recordRun, inputs, { extraArgs: { bucket, prefix }, chunksize: 2 });
      const results = await fexec.getResult(futures);
      assert.deepEqual(
        results,
        inputs.map((x) => ({ x, branded: true, sameStorage: true, version: VERSION })),
      );
      // Executions, not results: each call wrote its own marker through the imported Storage, once.
      const marks: string[] = [];
      for await (const e of store.list(bucket, `${prefix}/`)) if ('key' in e) marks.push(e.key);
      assert.deepEqual(marks.sort(), inputs.map((x, i) => `${prefix}/${x}-${i}-1`).sort());
    } finally {
      await store.close?.();
      await fexec.close();
    }
  });

  test('a ConfigError the function throws comes back typed: its name, code and key path', async () => {
    const fexec = new FunctionExecutor(options(emu, bucket));
    try {
      const [ok, err] = await fexec.getResult(await fexec.map(squareOrConfigError, [7, -3]), { throwOnError: false });
      assert.equal(ok, 49);
      assert.ok(err instanceof RemoteError, `got ${String(err)}`);
      assert.equal(err.remoteName, 'ConfigError');
      assert.equal(err.properties.code, 'CONFIG');
      assert.equal(err.properties.keyPath, 'x');
      assert.match(err.message, /ConfigError: x must not be negative, got -3/);
    } finally {
      await fexec.close();
    }
  });

  test("a dynamic import('burst-compute') inside the function runs with the worker's API", async () => {
    const fexec = new FunctionExecutor(options(emu, bucket));
    try {
      const results = await fexec.getResult(await fexec.map(dynamicImport, [5, 6]));
      assert.deepEqual(
        results,
        [5, 6].map((x) => ({ x, branded: true, version: VERSION })),
      );
    } finally {
      await fexec.close();
    }
  });

  test('a nested executor inside a Lambda task fails at its map with a typed PackagingError that says what to do', async () => {
    const fexec = new FunctionExecutor(options(emu, bucket));
    try {
      const before = emu.received.length;
      const [err] = await fexec.getResult(await fexec.map(nestedMap, [3]), { throwOnError: false });
      assert.ok(err instanceof RemoteError, `got ${String(err)}`);
      assert.equal(err.remoteName, 'PackagingError');
      assert.equal(err.properties.code, 'PACKAGING');
      assert.match(
        err.message,
        /a task on AWS Lambda cannot run a map of its own \(a FunctionExecutor inside the task\)/,
      );
      assert.match(err.message, /map them from the client/);
      const mine = emu.received.slice(before);
      assert.equal(mine.length, 1, 'one invocation: the outer call, run once, and nothing for the inner map');
    } finally {
      await fexec.close();
    }
  });

  test("the worker bundle carries the API in api.js, which neither entry loads at start (cold start stays the worker's)", async () => {
    const dir = codeDir as string;
    /** Files an entry loads before it runs: itself and its static imports, transitively. */
    const staticClosure = async (entry: string): Promise<Map<string, string>> => {
      const seen = new Map<string, string>();
      const visit = async (file: string): Promise<void> => {
        if (seen.has(file)) return;
        const code = await readFile(join(dir, file), 'utf8');
        seen.set(file, code);
        for (const m of code.matchAll(/^import\s*(?:[^;"]*?\sfrom\s*)?"\.\/([^"]+)";/gm)) await visit(m[1] as string);
      };
      await visit(entry);
      return seen;
    };
    const api = await staticClosure('api.js');
    assert.ok(
      [...api.values()].some((code) => /\bFunctionExecutor = class\b/.test(code)),
      'api.js carries FunctionExecutor',
    );
    for (const entry of ['index.js', 'child.js']) {
      const files = await staticClosure(entry);
      assert.ok(files.size > 1, `${entry} imports shared chunks`);
      assert.ok(!files.has('api.js'), `${entry} does not import api.js`);
      const carrying = [...files].filter(([, code]) => /\bFunctionExecutor = class\b/.test(code)).map(([f]) => f);
      assert.deepEqual(carrying, [], `${entry} loads no client code at start`);
    }
  });
});
