/**
 * `burst worker run` as remote backends launch it: a separate OS process with a clean environment,
 * given only the storage configuration, a job key and call ids. The executor here uses a backend that
 * only records what it is asked to start; the test starts the workers itself, as a cluster would.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  FunctionExecutor,
  IntegrityError,
  RemoteError,
  type ComputeBackend,
  type JobDescriptor,
} from '../../src/index.ts';
import { addSeven, misbehave, type Act } from '../fixtures/tasks.ts';

const run = promisify(execFile);
const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;

/** A backend that starts nothing: it records invocations so the test can start workers by hand. */
class ManualBackend implements ComputeBackend {
  readonly name = 'manual';
  readonly invocations: Array<{ job: JobDescriptor; callIds: readonly number[]; attempt: number }> = [];
  async invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    this.invocations.push({ job, callIds, attempt });
  }
  async cancel(): Promise<void> {}
  async close(): Promise<void> {}
}

let root: string;
let workDir: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-worker-cli-'));
  workDir = await mkdtemp(join(tmpdir(), 'burst-worker-cwd-'));
  // Its own node_modules gives this run its own bundle cache: a cached intact copy would hide tampering.
  await mkdir(join(workDir, 'node_modules'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

async function startWorker(job: JobDescriptor, calls: string, extra: string[] = []): Promise<{ stderr: string }> {
  return run(
    process.execPath,
    [cli, 'worker', 'run', '--bucket', job.bucket, '--job', job.jobKey, '--calls', calls, ...extra],
    {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BURST_STORAGE_CONFIG: JSON.stringify(job.storage) },
      timeout: 60_000,
    },
  );
}

test('a worker started by hand runs the calls and the client collects them from storage', async () => {
  const backend = new ManualBackend();
  const fexec = new FunctionExecutor({ backend, fs: { root }, progress: false });
  try {
    const futures = await fexec.map(addSeven, [10, 20, 30, 40, 50]);
    assert.equal(backend.invocations.length, 1);
    const { job, callIds } = backend.invocations[0]!;
    assert.deepEqual(callIds, [0, 1, 2, 3, 4]);
    // Two "nodes": one takes a chunk by array index, the other an explicit list.
    await startWorker(job, '0-3', ['--task-index', '0', '--chunksize', '2']);
    await startWorker(job, '2-4', ['--workers', '2']);
    assert.deepEqual(await fexec.getResult(futures, { timeout: 30 }), [17, 27, 37, 47, 57]);
    assert.ok(futures.every((f) => f.stats.hostname && f.stats.pid !== process.pid));
    const counters = fexec.counters();
    assert.ok((counters['storage.list'] ?? 0) >= 1, 'results came through storage polling');
  } finally {
    await fexec.close();
  }
});

test('remote errors come back through the status records', async () => {
  const backend = new ManualBackend();
  const fexec = new FunctionExecutor({ backend, fs: { root }, progress: false });
  try {
    const futures = await fexec.map(misbehave, [{ ok: 2 }, 'throw'] as Act[]);
    await startWorker(backend.invocations[0]!.job, '0-1');
    const results = await fexec.getResult(futures, { throwOnError: false, timeout: 30 });
    assert.equal(results[0], 4);
    assert.ok(results[1] instanceof RemoteError && results[1].remoteName === 'QuotaError');
  } finally {
    await fexec.close();
  }
});

test('a bundle altered in storage is refused with an IntegrityError', async () => {
  const backend = new ManualBackend();
  const fexec = new FunctionExecutor({ backend, fs: { root }, progress: false });
  try {
    const before = new Set(await readdir(root, { recursive: true }));
    const futures = await fexec.map((x: number) => x - 1, [1]);
    const { job } = backend.invocations[0]!;
    const dir = join(root, job.bucket, 'burst', 'functions');
    // This job's bundle: the one the map uploaded (earlier tests left theirs in the same store).
    const [file] = (await readdir(dir)).filter(
      (f) => f.endsWith('.mjs') && !before.has(join(job.bucket, 'burst', 'functions', f)),
    );
    await writeFile(join(dir, file!), 'export default () => "tampered";');
    await startWorker(job, '0');
    const [result] = await fexec.getResult(futures, { throwOnError: false, timeout: 30 });
    assert.ok(result instanceof IntegrityError, `got ${String(result)}`);
    assert.match(result.message, /altered after upload/);
  } finally {
    await fexec.close();
  }
});

test('wrong usage of burst worker run exits non-zero with a clear message', async () => {
  await assert.rejects(
    run(process.execPath, [cli, 'worker', 'run', '--job', 'x', '--calls', '0'], {
      env: { PATH: process.env.PATH ?? '' },
    }),
    (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /no storage configuration: pass --storage-config or set BURST_STORAGE_CONFIG/);
      return true;
    },
  );
  await assert.rejects(
    run(process.execPath, [
      cli,
      'worker',
      'run',
      '--job',
      'x',
      '--calls',
      '3-1',
      '--storage-config',
      '{"driver":"fs","options":{}}',
    ]),
    (err: { stderr?: string }) => /range "3-1" goes backwards/.test(err.stderr ?? ''),
  );
  await assert.rejects(run(process.execPath, [cli, 'worker', 'run']), (err: { stderr?: string }) =>
    /required option '--job <key>' not specified/.test(err.stderr ?? ''),
  );
});
