/**
 * Fault 4 of issue 8: the client process is killed in the middle of a job. A new process attaches to
 * the executor by id, collects every call that finished (read from storage, not recomputed) and sees
 * which did not; a call whose worker outlived the client settles when that worker reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FunctionExecutor, ConfigError, TimeoutError, WorkerCrashError } from '../../src/index.ts';
import { runsOf } from './fixtures/counted.ts';

const repo = new URL('../../', import.meta.url).pathname;

test("a new process attaches to a killed client's executor and collects what finished", async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-attach-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/fixtures/doomed-client.ts'], {
      cwd: repo,
      env: { ...process.env, BURST_FS_ROOT: root },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let executorId = '';
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('executor ')) executorId = line.slice('executor '.length);
      if (line === 'three done') break;
    }
    assert.ok(executorId, 'the client printed its executor id');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const fexec = await FunctionExecutor.attach(executorId, { fs: { root }, progress: false });
    try {
      const now = await fexec.wait(undefined, { returnWhen: 'ALWAYS' });
      // The monitor's first poll may still be under way: wait for the three that finished.
      const all = [...now.done, ...now.pending].sort((a, b) => a.callId - b.callId);
      assert.equal(all.length, 4);
      assert.deepEqual(await Promise.all(all.slice(0, 3).map((f) => f.result({ timeout: 30 }))), [10, 20, 30]);
      assert.equal(all[3]?.done, false, 'the long call has not finished');
      assert.equal(fexec.counters()['backend.spawned'] ?? 0, 0, 'nothing was recomputed');
      // Its worker outlived the client; it stops the call at its 8 s timeout and reports that.
      await assert.rejects(all[3]!.result({ timeout: 60 }), TimeoutError);
    } finally {
      await fexec.close();
    }
    await assert.rejects(
      FunctionExecutor.attach('no-such-executor', { fs: { root } }),
      (e: unknown) => e instanceof ConfigError && /no jobs of executor no-such-executor/.test(e.message),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/** Runs the built `burst` command with the given fs root; resolves with its exit code and output. */
function burstCli(args: string[], root: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repo, 'dist/cli/main.js'), ...args], {
      cwd: repo,
      env: { ...process.env, BURST_FS_ROOT: root },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a client killed with calls never sent: burst jobs says abandoned, logs --follow ends, attach with resubmit runs each call exactly once', {
  timeout: 120_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-resubmit-'));
  const marks = await mkdtemp(join(tmpdir(), 'burst-marks-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/fixtures/half-sent-client.ts'], {
      cwd: repo,
      env: { ...process.env, BURST_FS_ROOT: root, MARKS: marks },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let executorId = '';
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('executor ')) executorId = line.slice('executor '.length);
      if (line === 'one done') break;
    }
    assert.ok(executorId, 'the client printed its executor id');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const ids = Array.from({ length: 8 }, (_, i) => i);
    assert.ok(
      runsOf(marks, ids).filter((n) => n === 0).length >= 4,
      `most calls never ran before the kill: ${runsOf(marks, ids).join(',')}`,
    );

    // Its 2 s lease runs out: the job is abandoned, not running forever.
    let row: { state?: string; pending?: number } = {};
    for (let i = 0; i < 60 && row.state !== 'abandoned'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const r = await burstCli(['jobs', executorId, '--json'], root);
      row = (JSON.parse(r.stdout) as Array<typeof row>)[0] ?? {};
    }
    assert.equal(row.state, 'abandoned');
    assert.ok((row.pending ?? 0) > 0);
    const table = await burstCli(['jobs', executorId], root);
    assert.match(table.stdout, /abandoned/);
    const follow = await burstCli(['logs', `${executorId}/M000`, '--follow', '--interval', '100'], root);
    assert.equal(follow.code, 3, follow.stderr);
    assert.match(follow.stderr, /is abandoned: its client .* stopped renewing its lease/);
    const plot = await burstCli(['plot', `${executorId}/M000`, '--dir', join(marks, 'plots')], root);
    assert.match(plot.stdout, /is abandoned/);

    const fexec = await FunctionExecutor.attach(executorId, { fs: { root }, progress: false, resubmit: true });
    try {
      const results = await fexec.getResult(undefined, { timeout: 60 });
      assert.deepEqual(
        results,
        ids.map((i) => i * 10),
      );
      assert.deepEqual(
        runsOf(marks, ids),
        ids.map(() => 1),
        'every call ran exactly once, across both clients',
      );
    } finally {
      await fexec.close();
    }
    const after = await burstCli(['jobs', executorId, '--json'], root);
    assert.equal((JSON.parse(after.stdout) as Array<{ state: string }>)[0]?.state, 'done');
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(marks, { recursive: true, force: true });
  }
});

test('a call whose worker died with the client fails after its timeout on attach, instead of waiting forever', {
  timeout: 120_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-claimed-'));
  const marks = await mkdtemp(join(tmpdir(), 'burst-claimed-marks-'));
  try {
    // Its own process group, so the client and the worker it started die together.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/fixtures/claimed-client.ts'], {
      cwd: repo,
      detached: true,
      env: { ...process.env, BURST_FS_ROOT: root, MARKS: marks },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let executorId = '';
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('executor ')) executorId = line.slice('executor '.length);
      break;
    }
    // The call has started (so its worker claimed it): kill before its 3 s timeout ends it.
    while (runsOf(marks, [0])[0] === 0) await new Promise((r) => setTimeout(r, 50));
    process.kill(-(child.pid as number), 'SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const fexec = await FunctionExecutor.attach(executorId, { fs: { root }, progress: false });
    try {
      const [f] = (await fexec.wait(undefined, { returnWhen: 'ALWAYS' })).pending;
      assert.ok(f, 'the claimed call is pending at first');
      await assert.rejects(
        f.result({ timeout: 60 }),
        (e: unknown) =>
          e instanceof WorkerCrashError &&
          /was taken by a worker .* has no result after its 3 s timeout/.test(e.message),
      );
      assert.deepEqual(runsOf(marks, [0]), [1], 'it ran once and was not re-run');
    } finally {
      await fexec.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(marks, { recursive: true, force: true });
  }
});
