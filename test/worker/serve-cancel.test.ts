/**
 * Cancelling calls on `burst worker serve` (the real CLI process, real worker processes): a client
 * that closes its connection (the knative backend's `close`) stops the calls it asked for, and a
 * second SIGTERM stops those of a draining instance. Either way no call and no worker process is left
 * running, and every call has a `cancelled` status in storage. Waits are bounded by the tests'
 * timeouts, never asserted on.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, type CallContext, type Future } from '../../src/index.ts';
import { keys } from '../../src/job/layout.ts';
import type { StoredStatus } from '../../src/job/status.ts';
import { startServe, type ServeProcess } from '../serve-hosts.ts';
import { sleepMs } from '../fixtures/tasks.ts';
import { fsConfig } from './serve-fixtures.ts';

/** Appends its call id to `file`, then waits `ms` or until its abort signal, whose reason it throws. */
export async function noteThenWait(x: { file: string; ms: number }, ctx: CallContext): Promise<number> {
  appendFileSync(x.file, `${ctx.callId}\n`);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, x.ms);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
  if (ctx.signal.aborted) throw ctx.signal.reason;
  return x.ms;
}

const TEST_TIMEOUT_MS = 60_000;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pids of the processes whose parent is `pid` (from /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name (2nd field) may hold spaces and parentheses: fields resume after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(entry));
  }
  return out;
}

/** Polls until `check` holds; the test's timeout bounds the wait. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await pause(50);
}

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'burst-serve-cancel-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The stored status of a future's call. */
async function statusOf(f: Future<unknown>): Promise<StoredStatus> {
  const key = keys.status(keys.job(f.executorId, f.jobId), f.callId);
  return JSON.parse(await readFile(join(root, 'burst', key), 'utf8')) as StoredStatus;
}

/** Waits until the serve process runs no request and has no worker process left. */
async function settled(server: ServeProcess): Promise<void> {
  const pid = server.child.pid as number;
  await until(async () => (await server.health()).inFlight === 0 && (await childrenOf(pid)).length === 0);
}

const executor = (server: ServeProcess): FunctionExecutor =>
  new FunctionExecutor({
    backend: 'knative',
    knative: { url: server.url, signJobs: false },
    fs: { root, shared: true },
    progress: false,
  });

/** An unsecured serve process on 127.0.0.1 whose storage is the test's fs root. */
const startLocal = (): Promise<ServeProcess> =>
  startServe({ addr: '127.0.0.1', port: 0, args: ['--insecure', '--storage-config', fsConfig(root)] });

describe('burst worker serve: a client closing its connection cancels its calls', () => {
  let server: ServeProcess;
  before(async () => {
    server = await startLocal();
  });
  after(async () => {
    await server.stop('SIGKILL');
  });

  test('a call that ignores its signal is stopped: no call, no worker process, a cancelled status', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const fexec = executor(server);
    let futures: Future<number>[];
    try {
      futures = await fexec.map(sleepMs, [60_000]);
      // The call runs: the request is in flight and a worker process exists.
      await until(
        async () => (await server.health()).inFlight === 1 && (await childrenOf(server.child.pid as number)).length > 0,
      );
    } finally {
      await fexec.close();
    }
    await settled(server);
    const status = await statusOf(futures[0] as Future<unknown>);
    assert.equal(status.ok, false);
    assert.equal(status.error?.kind, 'cancelled');
    assert.match(status.error?.message ?? '', /cancelled by the client/);
    assert.match(server.output(), /calls 0 of \S+ aborted \(cancelled by the client.*\): 1 cancelled/);
    assert.equal((await server.health()).ok, true, 'the instance still serves');
  });

  test('a running call sees its signal abort; calls not started never start', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const file = join(root, 'started.txt');
    const fexec = executor(server);
    let futures: Future<number>[];
    try {
      // One request of three calls, one worker process: only call 0 starts before the client leaves.
      futures = await fexec.map(
        noteThenWait,
        [0, 1, 2].map(() => ({ file, ms: 60_000 })),
        { chunksize: 3 },
      );
      await until(async () => (await readFile(file, 'utf8').catch(() => '')) !== '');
    } finally {
      await fexec.close();
    }
    await settled(server);
    assert.equal(await readFile(file, 'utf8'), '0\n', 'only the first call started');
    const [first, ...rest] = await Promise.all(Array.from(futures, (f) => statusOf(f as Future<unknown>)));
    assert.equal(first?.error?.kind, 'cancelled');
    // It returned on its own (threw its signal's reason), so it is named in the status.
    assert.match(
      first?.error?.message ?? '',
      /it ended with CancelledError: cancelled by the client \(it closed the connection\)/,
    );
    for (const s of rest) assert.equal(s.error?.kind, 'cancelled');
  });
});

test('burst worker serve: a second SIGTERM cancels the calls of a draining instance and exits', {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const server = await startLocal();
  const fexec = executor(server);
  try {
    const futures = await fexec.map(sleepMs, [60_000]);
    const pid = server.child.pid as number;
    await until(async () => (await server.health()).inFlight === 1 && (await childrenOf(pid)).length > 0);
    const workers = await childrenOf(pid);
    server.child.kill('SIGTERM');
    await until(async () => /SIGTERM: finishing 1 request/.test(server.output()));
    server.child.kill('SIGTERM');
    // No third signal (stop() would send one): a third makes serve exit at once, with code 1.
    assert.equal(await server.exited(), 0);
    assert.match(server.output(), /SIGTERM again: cancelling 1 request/);
    assert.match(server.output(), /aborted \(cancelled: the instance was stopped/);
    // The client got its answer: the call failed as cancelled rather than hanging or being lost.
    const [result] = await fexec.getResult(futures, { throwOnError: false });
    assert.ok(result instanceof Error && (result as { code?: string }).code === 'CANCELLED', `got ${String(result)}`);
    assert.equal((await statusOf(futures[0] as Future<unknown>)).error?.kind, 'cancelled');
    // Orphans would outlive the serve process: its worker processes must be gone too.
    await until(async () => workers.every((w) => !existsSync(`/proc/${w}`)));
  } finally {
    await fexec.close();
    await server.stop('SIGKILL');
  }
});
