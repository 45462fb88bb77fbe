/**
 * `ctx.storage` in a worker started without a storage configuration (a real worker process of the
 * pool): reading it throws a ConfigError naming the call, its job and the missing configuration,
 * which the client receives with its name and code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteError, type CallContext } from '../../src/index.ts';
import { ProcessPool } from '../../src/worker/pool.ts';
import { writeBundle } from '../../src/packaging/load.ts';
import { packageFunction } from '../../src/packaging/index.ts';
import type { CallRecord } from '../../src/worker/protocol.ts';
import { toBurstError } from '../../src/serialize/errors.ts';

/** Lists the executor's storage from inside the call. */
export async function listStorage(_: unknown, ctx: CallContext): Promise<number> {
  let n = 0;
  for await (const _entry of ctx.storage.list('burst', '')) n++;
  return n;
}

test('ctx.storage without a storage configuration is a ConfigError naming the call and job', {
  timeout: 60_000,
}, async () => {
  const bundle = await packageFunction(listStorage);
  const bundlePath = await writeBundle(bundle.hash, bundle.code, { runtimeDir: bundle.packageRoot ?? process.cwd() });
  const pool = new ProcessPool({ size: 1 });
  try {
    const record = await new Promise<CallRecord>((resolve) => {
      pool.submit({
        job: { executorId: 'x', jobId: 'M007', bundlePath, env: {}, timeoutMs: 30_000 },
        calls: [{ callId: 3, attempt: 1, input: null }],
        onRecord: resolve,
      });
    });
    assert.equal(record.ok, false);
    assert.equal(record.error?.name, 'ConfigError');
    assert.equal(record.error?.properties?.code, 'CONFIG');
    assert.equal(record.error?.properties?.keyPath, 'BURST_STORAGE_CONFIG');
    assert.match(
      record.error?.message ?? '',
      /^ctx\.storage of call 3 of job M007 is unavailable: this worker was started without a storage configuration/,
    );
    const err = toBurstError(record.error!, { callId: 3, jobId: 'M007' });
    assert.ok(
      err instanceof RemoteError && err.remoteName === 'ConfigError',
      'the client sees what the function threw',
    );
  } finally {
    await pool.close();
  }
});
