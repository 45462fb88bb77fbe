/**
 * The cloudrun backend against real HTTP workers: three `burst worker serve` processes, each in its own
 * network namespace (test/backends/http-workers.ts), storage on the Ceph gateway. The only fake is
 * Google's front end of an authenticated service (fake-cloudrun-front-end.ts): it checks the ID token
 * and spreads requests over the instances, so the client sends the ID token in `Authorization` and
 * the worker's own token in `X-Burst-Token`, as on Cloud Run.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionExecutor, InvocationError, type ExecutorOptions } from '../../src/index.ts';
import { addSeven } from '../fixtures/tasks.ts';
import { backendSuite } from './suite.ts';
import { httpWorkers } from './http-workers.ts';
import { fakeCloudRunFrontEnd, type FakeFrontEnd } from './fake-cloudrun-front-end.ts';

const workers = await httpWorkers('cloudrun');
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.fake-id-token.sig';

let front: Promise<FakeFrontEnd> | undefined;
/** The service URL: the fake front end before the three instances (started once for the file). */
const frontEnd = (): Promise<FakeFrontEnd> =>
  (front ??= workers.servers().then((s) =>
    fakeCloudRunFrontEnd(
      s.map((p) => p.url),
      ID_TOKEN,
    ),
  ));
after(async () => {
  await (await front?.catch(() => undefined))?.close();
});

const options = (url: string, cloudrun: Record<string, unknown> = {}): ExecutorOptions => ({
  backend: 'cloudrun',
  cloudrun: { url, idToken: ID_TOKEN, token: workers.token, concurrency: 12, ...cloudrun },
  ...workers.storageOptions('burst-cloudrun-suite'),
});

backendSuite('cloudrun (fake Cloud Run front end, 3 burst worker serve instances, s3 on Ceph)', {
  skip: async () => workers.skip,
  options: async () => options((await frontEnd()).url),
});

describe('cloudrun authentication through the fake Cloud Run front end', { skip: workers.skip }, () => {
  let f: FakeFrontEnd;
  before(async () => {
    f = await frontEnd();
  });

  const withExecutor = async (
    cloudrun: Record<string, unknown>,
    fn: (fexec: FunctionExecutor) => Promise<void>,
  ): Promise<void> => {
    const fexec = new FunctionExecutor(options(f.url, cloudrun));
    try {
      await fn(fexec);
    } finally {
      await fexec.close();
    }
  };

  test('the ID token goes in Authorization and the worker token in X-Burst-Token; instances take turns', async () => {
    const seen = f.forwarded.length;
    await withExecutor({}, async (fexec) => {
      const futures = await fexec.map(addSeven, [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10, 11, 12, 13]);
      const hostnames = new Set(Array.from(futures, (x) => x.stats.hostname));
      assert.ok(hostnames.size > 1, `calls ran on ${[...hostnames].join(', ')}`);
    });
    const mine = f.forwarded.slice(seen);
    assert.ok(mine.length >= 1, 'the front end forwarded the invocations');
    for (const h of mine) {
      assert.equal(h.authorization, `Bearer ${ID_TOKEN}`);
      assert.equal(h['x-burst-token'], workers.token);
    }
  });

  test('a wrong ID token is refused by the front end: a 401 InvocationError that says to pass cloudrun.idToken', async () => {
    const refused = f.refused();
    await withExecutor({ idToken: 'not-the-token', gcloud: false }, async (fexec) => {
      await assert.rejects(fexec.map(addSeven, [1]), (err: unknown) => {
        assert.ok(err instanceof InvocationError, `got ${String(err)}`);
        assert.equal(err.status, 401);
        assert.equal(err.url, `${f.url}/invoke`);
        assert.match(err.message, /cloudrun\.idToken/);
        return true;
      });
    });
    assert.ok(f.refused() > refused, 'refused by the front end, not by a worker');
  });

  test('past the front end without the worker token, the instance itself refuses (401)', async () => {
    const [refused, seen] = [f.refused(), f.forwarded.length];
    await withExecutor({ token: undefined }, async (fexec) => {
      await assert.rejects(
        fexec.map(addSeven, [1]),
        (err: unknown) => err instanceof InvocationError && err.status === 401,
      );
    });
    assert.equal(f.refused(), refused, 'the front end let it through');
    assert.ok(f.forwarded.length > seen);
    const health = await Promise.all((await workers.servers()).map((s) => s.health()));
    assert.ok(
      health.some((h) => h.rejectedAuth > 0),
      `an instance refused it: ${JSON.stringify(health)}`,
    );
  });
});
