/**
 * The AWS Lambda backend against serverless-offline, a Lambda emulator from npm: Serverless Framework
 * v3 (open source, no login) runs the real Burst worker bundle (built as `burst runtime deploy` builds
 * it) behind its Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`, which answers
 * `X-Amz-Invocation-Type: Event` with 202 and runs the handler afterwards), and the backend reaches it
 * through the official SDK with an endpoint override. Storage is the real Ceph gateway.
 *
 * The emulator lives in its own package, out of the root one:
 *   npm --prefix test/lambda-offline ci --no-audit --no-fund
 * Without test/lambda-offline/node_modules the test skips and says so.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FunctionExecutor, RemoteError, type ExecutorOptions } from '../../src/index.ts';
import { VERSION } from '../../src/version.ts';
import { buildWorkerBundle } from '../../src/backends/aws_lambda/build.ts';
import { parseLambdaLocation } from '../../src/backends/aws_lambda/worker/event.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { addSeven, misbehave, type Act } from '../fixtures/tasks.ts';
import { dynamicImport, squareOrConfigError } from '../fixtures/uses-burst.ts';

const pkgDir = fileURLToPath(new URL('../lambda-offline/', import.meta.url));
const slsBin = join(pkgDir, 'node_modules', 'serverless', 'bin', 'serverless.js');
const installed = existsSync(join(pkgDir, 'node_modules')) && existsSync(slsBin);
const ceph = installed ? await ensureCeph() : undefined;
const notInstalled =
  'serverless-offline is not installed: run "npm --prefix test/lambda-offline ci --no-audit --no-fund"';
// CI installs it (.ci/run): there a missing emulator is a failure, not a skip.
if (!installed && process.env.BURST_REQUIRE_SERVICES === '1')
  throw new Error(`${notInstalled} (BURST_REQUIRE_SERVICES=1 turns this skip into a failure)`);
const skip = !installed ? notInstalled : ceph && 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
// The client's SDK signs requests to the emulator; serverless-offline checks no signature.
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEMULATOR';
process.env.AWS_SECRET_ACCESS_KEY ??= 'emulator';

/** The name the backend derives for the default runtime at 1024 MB (functionNameFor). */
const fn = `burst-default-1024mb-${VERSION.replace(/[^A-Za-z0-9]/g, '_')}`;
const BUCKET = 'burst-lambda-offline';
const START_TIMEOUT_MS = 90_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('aws_lambda on an npm Lambda emulator (serverless-offline)', { skip }, () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'burst-lambda-offline-'));
    await buildWorkerBundle(dir);
    await writeFile(
      join(dir, 'serverless.yml'),
      [
        'service: burst-offline',
        "frameworkVersion: '3'",
        'provider:',
        '  name: aws',
        '  runtime: nodejs20.x',
        '  region: us-east-1',
        'functions:',
        '  worker:',
        `    name: ${fn}`,
        '    handler: index.handler',
        '    memorySize: 1024',
        '    timeout: 900', // the backend's default functionTimeout
        // Resolved from the node_modules beside the framework (test/lambda-offline/node_modules).
        'plugins:',
        '  - serverless-offline',
        '',
      ].join('\n'),
    );
    port = await freePort();
    const proc = spawn(
      process.execPath,
      [slsBin, 'offline', 'start', '--host', '127.0.0.1', '--lambdaPort', String(port), '--noSponsor'],
      {
        cwd: dir,
        // Its own process group, so `after` can stop it with the worker processes the handler forks.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          // Serverless v3 phones home for telemetry and notifications: off (there is no network here anyway).
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          SLS_DEPRECATION_DISABLE: '*',
          SLS_INTERACTIVE_SETUP_DISABLE: '1',
        },
      },
    );
    child = proc;
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) =>
        reject(new Error(`serverless offline exited (${code ?? signal}) before it listened:\n${output}`)),
      ),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (await Promise.race([connects(port), exited])) break;
      if (Date.now() > deadline)
        throw new Error(`serverless offline did not listen on ${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // It may print its list of functions just after the port opens.
    const listed = new RegExp(`\\* worker: ${fn}`);
    while (!listed.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(output, listed, 'serverless-offline exposes the function under the name the backend derives');
  });

  after(async () => {
    const proc = child;
    if (proc?.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      const group = -proc.pid;
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await gone;
      clearTimeout(timer);
      // The handler's forked worker processes share the group; make sure none outlives the emulator.
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        // none left
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function options(): ExecutorOptions {
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
      bucket: BUCKET,
      aws_lambda: { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' },
      progress: false,
    };
  }

  /** Invocations serverless-offline reports as finished ("(λ: worker) RequestId: ... Duration ..."). */
  const finished = (): number => output.match(/\(λ: worker\) RequestId: [0-9a-f-]{36}/g)?.length ?? 0;

  test('runs the worker bundle for Event invocations sent through the SDK, one per chunk (serverless-offline)', async () => {
    const fexec = new FunctionExecutor(options());
    try {
      const before = finished();
      const futures = await fexec.map(addSeven, [1, 2, 3, 4, 5], { chunksize: 2 });
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10, 11, 12]);
      assert.equal(fexec.counters()['backend.invokes'], 3, 'five calls in chunks of two are three Invoke requests');
      for (const f of futures) {
        const where = parseLambdaLocation(f.stats.location);
        assert.ok(where, `stats.location ${JSON.stringify(f.stats.location)} carries the Lambda context`);
        assert.equal(
          where.logGroup,
          `offline_logGroupName_for_${fn}`,
          "the handler ran with serverless-offline's context",
        );
        assert.match(where.requestId, /^[0-9a-f-]{36}$/);
      }
      // The emulator logs each invocation after its handler returns, which may be just after the results land.
      const deadline = Date.now() + 10_000;
      while (finished() - before < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(finished() - before, 3, `serverless-offline ran three invocations:\n${output}`);

      const [err] = await fexec.getResult(await fexec.map(misbehave, ['throw' as Act]), { throwOnError: false });
      assert.ok(err instanceof RemoteError, `got ${String(err)}`);
      assert.match(err.message, /QuotaError: quota exceeded/);
    } finally {
      await fexec.close();
    }
  });

  test("a function whose module imports burst-compute runs with the worker's API (serverless-offline)", async () => {
    const fexec = new FunctionExecutor(options());
    try {
      const [ok, err] = await fexec.getResult(await fexec.map(squareOrConfigError, [7, -2]), { throwOnError: false });
      assert.equal(ok, 49);
      assert.ok(err instanceof RemoteError, `got ${String(err)}`);
      assert.equal(err.remoteName, 'ConfigError');
      assert.equal(err.properties.code, 'CONFIG');
      assert.deepEqual(await fexec.getResult(await fexec.map(dynamicImport, [4])), [
        { x: 4, branded: true, version: VERSION },
      ]);
    } finally {
      await fexec.close();
    }
  });
});
