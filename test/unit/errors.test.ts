import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as errors from '../../src/errors.ts';

test('every error has a code, a cause and typed context', () => {
  const cause = new Error('root');
  const e = new errors.TimeoutError('too slow', {
    callId: 3,
    jobId: 'M001',
    backend: 'localhost',
    cause,
    timeoutSeconds: 2,
  });
  assert.equal(e.code, 'TIMEOUT');
  assert.equal(e.name, 'TimeoutError');
  assert.equal(e.cause, cause);
  assert.equal(e.callId, 3);
  assert.equal(e.jobId, 'M001');
  assert.equal(e.timeoutSeconds, 2);
  assert.ok(e instanceof errors.BurstError);
  assert.ok(e instanceof Error);
  assert.ok(!(e instanceof errors.RemoteError));
});

test('instanceof works across two copies of the module', async () => {
  const copy = (await import(`../../src/errors.ts?copy=${Date.now()}`)) as typeof errors;
  assert.notEqual(copy.NoSuchKeyError, errors.NoSuchKeyError, 'the test really loads a second copy');
  const e = new copy.NoSuchKeyError('b', 'k');
  assert.ok(e instanceof errors.NoSuchKeyError);
  assert.ok(e instanceof errors.StorageError);
  assert.ok(e instanceof errors.BurstError);
  assert.ok(!(e instanceof errors.NoSuchBucketError));
  assert.ok(errors.isBurstError(e));
  assert.ok(!errors.isBurstError(new Error('plain')));
  assert.equal(e.message, 'object "k" does not exist in bucket "b"');
});

test('RemoteError names call 0 (callId is a number, and 0 is a call)', () => {
  const e = new errors.RemoteError({ name: 'TypeError', message: 'bad' }, { callId: 0 });
  assert.equal(e.callId, 0);
  assert.equal(e.message, 'TypeError: bad in call 0');
});

test('every class carries only codes that ERROR_CODE_CLASS gives it', async () => {
  const { PartitionError } = await import('../../src/partition/errors.ts');
  const { InvocationError, RuntimeMissingError } = await import('../../src/backends/invocation-error.ts');
  const samples: errors.BurstError[] = [
    new errors.BurstError('NO_SUCH_JOB', 'x'),
    new errors.RemoteError({ name: 'E', message: 'x' }),
    new errors.TimeoutError('x'),
    new errors.WorkerCrashError('x'),
    new errors.OutOfMemoryError('x'),
    new errors.SerializationError('x'),
    new errors.PackagingError('x'),
    new errors.IntegrityError('x'),
    new errors.ConfigError('x'),
    new errors.WaitTimeoutError('x'),
    new errors.CancelledError('x'),
    new errors.MaxFailuresError('x', 1, 1),
    new errors.StorageError('S3_ERROR', 'x'),
    new errors.NoSuchBucketError('b'),
    new errors.NoSuchKeyError('b', 'k'),
    new errors.JobNotFoundError('x'),
    new errors.StorageAuthError('x'),
    new errors.InvalidKeyError('x'),
    new errors.StorageUnavailableError('x'),
    new errors.MalformedRecordError('x'),
    new InvocationError('x', { url: 'http://127.0.0.1/' }),
    new RuntimeMissingError('f', 'x'),
    new PartitionError('HTTP', 'x'),
    new errors.PrimitiveError('LOCK_NOT_HELD', 'x'),
    new errors.UpstreamError('x', { jobId: 'M000', executorId: 'e', callId: 1 }),
  ];
  for (const e of samples) assert.equal(errors.ERROR_CODE_CLASS[e.code], e.name, `${e.name} carries ${e.code}`);
  const owners = new Set(Object.values(errors.ERROR_CODE_CLASS));
  assert.deepEqual(
    [...owners].sort(),
    samples.map((e) => e.name).sort(),
    'every class owns a code, and every owner is a class',
  );
  assert.ok(errors.isBurstErrorCode('NO_SUCH_KEY'));
  assert.ok(!errors.isBurstErrorCode('ENOENT'));
  assert.ok(!errors.isBurstErrorCode('toString'), 'not fooled by Object.prototype');
});

test('codes written in src/ belong to the class constructed with them', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = new URL('../../src/', import.meta.url).pathname;
  const ctor = /new (BurstError|StorageError|ResultStorageError|PartitionError)\(\s*'([A-Z0-9_]+)'/g;
  let seen = 0;
  for (const file of readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const [, cls, code] of text.matchAll(ctor)) {
      seen++;
      const owner = errors.isBurstErrorCode(code) ? errors.ERROR_CODE_CLASS[code] : undefined;
      // ResultStorageError is the worker's carrier; the client sees a StorageError.
      assert.equal(
        owner,
        cls === 'ResultStorageError' ? 'StorageError' : cls,
        `src/${file}: new ${cls}('${code}') uses a code of ${owner ?? 'no class'}`,
      );
    }
  }
  assert.ok(seen > 30, `the scan found the constructors (${seen})`);
});

test('the README "Error codes" table lists every code once, with its class', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('#### Error codes'), readme.indexOf('### Re-running failed calls'));
  const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| `(\w+)` \| [^|]+ \| [^|]+ \|$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows.map(([code]) => code).sort(), Object.keys(errors.ERROR_CODE_CLASS).sort());
  for (const [code, cls] of rows)
    assert.equal(cls, errors.ERROR_CODE_CLASS[code as errors.BurstErrorCode], `README row ${code}`);
});

test('an UpstreamError raised in a worker comes back as an UpstreamError naming both calls', async () => {
  const { serializeThrown, toBurstError } = await import('../../src/serialize/errors.ts');
  const thrown = new errors.UpstreamError(
    'call 2 of job M001 did not run: its input is the result of call 5 of job M000, which failed with RemoteError: boom',
    { jobId: 'M000', executorId: 'exec-1', callId: 5, code: 'REMOTE_ERROR' },
    { jobId: 'M001', callId: 2 },
  );
  const se = serializeThrown(thrown);
  assert.equal(se.kind, 'upstream');
  const back = toBurstError(JSON.parse(JSON.stringify(se)), { jobId: 'M001', callId: 2, executorId: 'exec-1' });
  assert.ok(back instanceof errors.UpstreamError);
  assert.equal(back.code, 'UPSTREAM_FAILED');
  assert.deepEqual(
    [back.jobId, back.callId, back.upstreamJobId, back.upstreamCallId, back.upstreamExecutorId, back.upstreamCode],
    ['M001', 2, 'M000', 5, 'exec-1', 'REMOTE_ERROR'],
  );
  assert.match(back.message, /call 5 of job M000/);
});
