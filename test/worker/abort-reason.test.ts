/**
 * What a running call's function sees when it is cancelled, on real worker processes: `ctx.signal.reason`
 * is a CancelledError (code CANCELLED) naming the call and job, not a plain Error.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, CancelledError, type CallContext } from '../../src/index.ts';

const root = await mkdtemp(join(tmpdir(), 'burst-abort-reason-'));
after(() => rm(root, { recursive: true, force: true }));

/** Notes that it started, waits for its abort, then writes what the abort reason is. */
export async function reportAbortReason(file: string, ctx: CallContext): Promise<string> {
  appendFileSync(file, 'started\n');
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
  const r = ctx.signal.reason as { name?: string; code?: string; callId?: number; jobId?: string; message?: string };
  appendFileSync(
    file,
    `${JSON.stringify({ name: r?.name, code: r?.code, callId: r?.callId, jobId: r?.jobId, message: r?.message })}\n`,
  );
  return 'aborted';
}

async function lines(file: string, n: number): Promise<string[]> {
  for (;;) {
    const got = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a cancelled call sees a CancelledError naming its call and job as its signal reason', {
  timeout: 60_000,
}, async () => {
  const fexec = new FunctionExecutor({ workers: 1, fs: { root }, progress: false });
  const file = join(root, 'reason.txt');
  try {
    const future = await fexec.callAsync(reportAbortReason, file);
    await lines(file, 1);
    future.cancel('no longer needed');
    await assert.rejects(fexec.getResult(future), CancelledError);
    const seen = JSON.parse((await lines(file, 2))[1] as string) as Record<string, unknown>;
    assert.equal(seen.name, 'CancelledError');
    assert.equal(seen.code, 'CANCELLED');
    assert.equal(seen.callId, 0);
    assert.equal(seen.jobId, future.jobId);
    assert.match(String(seen.message), /no longer needed/);
  } finally {
    await fexec.close();
  }
});
