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
import { FunctionExecutor, ConfigError, TimeoutError } from '../../src/index.ts';

const repo = new URL('../../', import.meta.url).pathname;

test('a new process attaches to a killed client\'s executor and collects what finished', async () => {
  const root = await mkdtemp(join(tmpdir(), 'burst-attach-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/fixtures/doomed-client.ts'], { cwd: repo, env: { ...process.env, BURST_FS_ROOT: root }, stdio: ['ignore', 'pipe', 'inherit'] });
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
    await assert.rejects(FunctionExecutor.attach('no-such-executor', { fs: { root } }), (e: unknown) => e instanceof ConfigError && /no jobs of executor no-such-executor/.test(e.message));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
