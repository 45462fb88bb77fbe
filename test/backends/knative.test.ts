/**
 * The knative backend against real HTTP workers: three `burst worker serve` processes, each in its own
 * network namespace as its own host (test/serve-hosts.ts), storage on the Ceph gateway. This is the
 * contract a Knative / Cloud Run / Code Engine service runs; no Kubernetes cluster is involved here.
 * Then the HTTP specifics: 429 from a full instance, the token, a wrong URL, cancelling a map, a killed
 * instance.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  FunctionExecutor,
  IntegrityError,
  WorkerCrashError,
  type ExecutorOptions,
} from '../../src/index.ts';
import { InvocationError } from '../../src/backends/invocation-error.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { ensureServeHosts, startServe, type ServeHosts, type ServeProcess } from '../serve-hosts.ts';
import { backendSuite } from './suite.ts';
import { addSeven, sleepMs } from '../fixtures/tasks.ts';

const [ceph, net] = await Promise.all([ensureCeph(), ensureServeHosts()]);
const skip =
  'skip' in ceph
    ? `Ceph RGW unavailable: ${ceph.skip}`
    : 'skip' in net
      ? `network namespaces unavailable: ${net.skip}`
      : undefined;
const hosts = net as ServeHosts;
const TOKEN = 'knative-test-secret';
const SIGNING_KEY = 'knative-test-signing-key-0123456789';

/** S3 on Ceph as both the test process and the namespaced serve processes reach it. */
function s3Options(bucket: string): ExecutorOptions {
  return { storage: 's3', s3: s3Config().options, bucket, signingKey: SIGNING_KEY, progress: false };
}

/** The s3 storage configuration both sides use: the serve processes get it at start, never in requests. */
function s3Config(): { driver: 's3'; options: Record<string, unknown> } {
  const c = ceph as CephService;
  const port = new URL(c.endpoint).port || '80';
  return {
    driver: 's3',
    options: {
      endpoint: `http://${hosts.hostAddr}:${port}`,
      region: c.region,
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      forcePathStyle: true,
    },
  };
}

/** A secured serve process (token, signing key, storage on Ceph) in namespace `i` on `port`. */
function startWorker(i: number, port: number, args: string[] = []): Promise<ServeProcess> {
  return startServe({
    host: hosts.hosts[i],
    addr: hosts.addrs[i] as string,
    port,
    args: ['--storage-config', JSON.stringify(s3Config()), ...args],
    env: { BURST_SERVE_TOKEN: TOKEN, BURST_SIGNING_KEY: SIGNING_KEY },
  });
}

/** One serve process per namespace (the suite's hosts), started once for the file. */
let servers: ServeProcess[] = [];
let starting: Promise<ServeProcess[]> | undefined;
function suiteServers(): Promise<ServeProcess[]> {
  starting ??= Promise.all(hosts.hosts.map((_, i) => startWorker(i, 8080, ['--concurrency', '4']))).then(
    (s) => (servers = s),
  );
  return starting;
}
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

backendSuite('knative (3 burst worker serve hosts, s3 on Ceph)', {
  skip: async () => skip,
  options: async () => {
    const s = await suiteServers();
    return {
      backend: 'knative',
      knative: { urls: s.map((p) => p.url), concurrency: 12, token: TOKEN },
      ...s3Options('burst-knative-suite'),
    };
  },
});

describe('knative backend over HTTP workers in 3 namespaces', { skip }, () => {
  let s: ServeProcess[];
  /** A fourth worker, in burst-s3 on port 8081: one request at a time. */
  let narrow: ServeProcess;
  before(async () => {
    s = await suiteServers();
    narrow = await startWorker(2, 8081, ['--concurrency', '1']);
  });
  after(async () => {
    await narrow?.stop();
  });

  const withExecutor = async (
    knative: Record<string, unknown>,
    fn: (fexec: FunctionExecutor) => Promise<void>,
    extra: ExecutorOptions = {},
  ): Promise<void> => {
    const fexec = new FunctionExecutor({
      backend: 'knative',
      knative: { token: TOKEN, ...knative },
      ...s3Options('burst-knative-specifics'),
      ...extra,
    });
    try {
      await fn(fexec);
    } finally {
      await fexec.close();
    }
  };

  test('spreads one map over the hosts (stats.hostname)', async () => {
    await withExecutor({ urls: s.map((p) => p.url) }, async (fexec) => {
      const futures = await fexec.map(
        sleepMs,
        Array.from({ length: 9 }, () => 200),
      );
      assert.deepEqual(
        await fexec.getResult(futures),
        Array.from({ length: 9 }, () => 200),
      );
      const seen = new Set(Array.from(futures, (f) => f.stats.hostname));
      assert.ok(seen.size > 1, `calls ran on ${[...seen].join(', ')}`);
      for (const h of seen) assert.ok(hosts.hosts.includes(h as string), `unexpected host ${h}`);
    });
  });

  test('chunksize sends several calls in one request', async () => {
    await withExecutor({ url: s[0]?.url }, async (fexec) => {
      const futures = await fexec.map(addSeven, [1, 2, 3, 4], { chunksize: 4 });
      assert.deepEqual(await fexec.getResult(futures), [8, 9, 10, 11]);
      assert.equal(new Set(Array.from(futures, (f) => f.stats.pid)).size, 1, 'one request, one worker process');
      assert.equal(fexec.counters()['backend.accepted'], 1);
    });
  });

  test('429 from a full instance is retried and the map still completes', async () => {
    const before = await narrow.health();
    await withExecutor({ url: narrow.url, token: TOKEN, concurrency: 4 }, async (fexec) => {
      const futures = await fexec.map(sleepMs, [300, 300, 300, 300]);
      assert.deepEqual(await fexec.getResult(futures), [300, 300, 300, 300]);
      assert.ok((fexec.counters()['backend.retries'] ?? 0) > 0, `counters: ${JSON.stringify(fexec.counters())}`);
    });
    const health = await narrow.health();
    assert.ok(health.rejectedBusy > before.rejectedBusy, `the instance answered 429: ${JSON.stringify(health)}`);
  });

  test('the token is enforced: a missing or wrong one is a 401 InvocationError naming the URL', async () => {
    for (const token of [undefined, 'wrong']) {
      await withExecutor({ url: narrow.url, token }, async (fexec) => {
        await assert.rejects(fexec.map(addSeven, [1]), (err: unknown) => {
          assert.ok(err instanceof InvocationError, `got ${String(err)}`);
          assert.equal(err.status, 401);
          assert.equal(err.url, `${narrow.url}/invoke`);
          assert.match(err.message, /401.*knative\.token/);
          return true;
        });
      });
    }
  });

  test('without a signing key the client refuses to submit: a ConfigError saying what to set', async () => {
    const saved = process.env.BURST_SIGNING_KEY;
    delete process.env.BURST_SIGNING_KEY;
    try {
      await withExecutor(
        { url: s[0]?.url },
        async (fexec) => {
          await assert.rejects(
            fexec.map(addSeven, [1]),
            (err: unknown) =>
              err instanceof ConfigError &&
              err.keyPath === 'signingKey' &&
              /set signingKey \(or BURST_SIGNING_KEY\).*knative\.signJobs to false/.test(err.message),
          );
        },
        { signingKey: undefined },
      );
      // signJobs: false sends the job unsigned, and this worker (which has a key) refuses to run it.
      await withExecutor(
        { url: s[0]?.url, signJobs: false },
        async (fexec) => {
          const [result] = await fexec.getResult(await fexec.map(addSeven, [1]), { throwOnError: false });
          assert.ok(result instanceof IntegrityError && /is not signed/.test(result.message), `got ${String(result)}`);
        },
        { signingKey: undefined },
      );
    } finally {
      if (saved !== undefined) process.env.BURST_SIGNING_KEY = saved;
    }
  });

  test('a wrong URL is an InvocationError naming it, not a hang', async () => {
    const wrongPath = `http://${hosts.addrs[0]}:8080/no-such-service`;
    await withExecutor({ url: wrongPath }, async (fexec) => {
      await assert.rejects(
        fexec.map(addSeven, [1]),
        (err: unknown) => err instanceof InvocationError && err.status === 404 && err.url === `${wrongPath}/invoke`,
      );
    });
    const nobody = `http://${hosts.addrs[0]}:9`;
    await withExecutor({ url: nobody, retryDeadlineSeconds: 1 }, async (fexec) => {
      await assert.rejects(
        fexec.map(addSeven, [1]),
        (err: unknown) =>
          err instanceof InvocationError && /ECONNREFUSED/.test(err.message) && err.url === `${nobody}/invoke`,
      );
    });
    await withExecutor({ url: 'http://no-such-host.invalid' }, async (fexec) => {
      await assert.rejects(
        fexec.map(addSeven, [1]),
        (err: unknown) => err instanceof InvocationError && /ENOTFOUND/.test(err.message),
      );
    });
  });

  test('closing the executor during a long map stops the calls on every host', { timeout: 60_000 }, async () => {
    const fexec = new FunctionExecutor({
      backend: 'knative',
      knative: { urls: s.map((p) => p.url), token: TOKEN },
      ...s3Options('burst-knative-specifics'),
    });
    try {
      await fexec.map(
        sleepMs,
        Array.from({ length: 6 }, () => 60_000),
      );
      // Every host runs calls of the map (round robin: two requests each).
      const busy = async (): Promise<boolean> =>
        (await Promise.all(s.map((p) => p.health()))).every((h) => h.inFlight === 2);
      while (!(await busy())) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await fexec.close();
    }
    // Each instance sees its client leave and stops the calls; the test's timeout bounds the wait.
    const idle = async (): Promise<boolean> =>
      (await Promise.all(s.map((p) => p.health()))).every((h) => h.inFlight === 0);
    while (!(await idle())) await new Promise((r) => setTimeout(r, 50));
    for (const p of s) assert.match(p.output(), /aborted \(cancelled by the client/);
  });

  test('a killed instance fails its calls (then retries run them on another host) instead of hanging', async () => {
    // A fifth worker, in burst-s2, that we kill while it runs a call.
    const victim = await startWorker(1, 8082);
    try {
      await withExecutor({ urls: [victim.url, s[0]?.url] }, async (fexec) => {
        const futures = await fexec.map(sleepMs, [3000, 50]);
        while ((await victim.health()).inFlight === 0) await new Promise((r) => setTimeout(r, 50));
        await victim.stop('SIGKILL');
        const results = await fexec.getResult(futures, { throwOnError: false });
        assert.equal(results[1], 50);
        const err = results[0];
        assert.ok(err instanceof WorkerCrashError, `got ${String(err)}`);
        assert.match(err.message, /CONNECTION_LOST/);
        assert.match(err.message, new RegExp(victim.url.replace(/[.]/g, '\\.')));
      });
      // With a retry, the lost call runs again; the dead URL refuses connections, so it lands on the other host.
      const again = await startWorker(1, 8082);
      try {
        await withExecutor({ urls: [again.url, s[0]?.url] }, async (fexec) => {
          const futures = await fexec.map(sleepMs, [3000], { retries: 1 });
          while ((await again.health()).inFlight === 0) await new Promise((r) => setTimeout(r, 50));
          await again.stop('SIGKILL');
          assert.deepEqual(await fexec.getResult(futures), [3000]);
          assert.equal(futures[0]?.stats.attempt, 2);
          assert.equal(futures[0]?.stats.hostname, hosts.hosts[0]);
          assert.match(futures[0]?.attempts[0]?.message ?? '', /CONNECTION_LOST/);
        });
      } finally {
        await again.stop('SIGKILL');
      }
    } finally {
      await victim.stop('SIGKILL');
    }
  });
});
