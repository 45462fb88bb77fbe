/**
 * Secrets never printed or stored (issue 14). Each leak the issue names is reproduced as a user meets
 * it, and each test fails when its redaction is removed: `burst config show` (header values, env values,
 * URL passwords), an error message naming an endpoint with user:password, the status record of a call
 * whose input was a presigned URL (storage and IPC channels), `burst logs` and the dashboard's API on
 * records holding secrets, and the warning for credentials over plain http to another host.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FunctionExecutor, StorageUnavailableError } from '../../src/index.ts';
import { DashboardData } from '../../src/dashboard/api.ts';
import { PLAIN_HTTP_WARNING, warnPlainHttpCredentials } from '../../src/plain-http-warning.ts';
import { redactConfig, redactText, redactUrl } from '../../src/redact.ts';
import { s3 } from '../../src/storage/s3/driver.ts';
import { leaky, lengthOf } from './fixtures/tasks.ts';
import {
  burst,
  fails,
  ok,
  sandbox,
  sandboxStorage,
  statusRecord,
  writeManifest,
  writeStatuses,
  type Sandbox,
} from './helpers.ts';

let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

/** Every file under a folder, with its text. */
function allText(dir: string): string {
  let text = '';
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) text += `${path}\n${readFileSync(path, 'latin1')}\n`;
  }
  return text;
}

describe('redaction rules (src/redact.ts)', () => {
  it('hides URL user-info and credential query parameters, keeps the rest', () => {
    assert.equal(redactUrl('http://u:PASS@h:7480/b/k'), 'http://***@h:7480/b/k');
    assert.equal(
      redactUrl(
        'https://b.s3.amazonaws.com/k.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F2026&X-Amz-Signature=abc123&X-Amz-Security-Token=tok&part=2',
      ),
      'https://b.s3.amazonaws.com/k.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***&part=2',
    );
    assert.equal(
      redactUrl('https://x.blob.core.windows.net/c/f?sv=1&sig=SIG&se=2'),
      'https://x.blob.core.windows.net/c/f?sv=1&sig=***&se=2',
    );
    assert.equal(
      redactUrl('https://h/p?token=T&Signature=S&access_token=A'),
      'https://h/p?token=***&Signature=***&access_token=***',
    );
  });

  it('finds URLs, bearer tokens and header lines inside text', () => {
    const text = redactText(
      'GET http://alice:hunter22@10.0.0.5:9000/x?sig=zzz failed; Authorization: Bearer abcdefghijklmnop; cookie=sessionid123',
    );
    assert.doesNotMatch(text, /hunter22|zzz|abcdefghijklmnop|sessionid123/);
    assert.match(text, /http:\/\/\*\*\*@10\.0\.0\.5:9000\/x\?sig=\*\*\*/);
    assert.equal(
      redactText('nothing secret at http://127.0.0.1:7480/bucket'),
      'nothing secret at http://127.0.0.1:7480/bucket',
    );
  });

  it('in configuration: secret keys, sensitive headers, every env value, URL passwords', () => {
    const safe = redactConfig({
      s3: { endpoint: 'http://u:PW@h', secretAccessKey: 'S', region: 'r' },
      knative: {
        url: 'https://svc',
        headers: {
          Authorization: 'Bearer T',
          Cookie: 'c=1',
          'X-Api-Key': 'K',
          'X-Service-Token': 'V',
          Host: 'svc.example',
        },
        env: { DB_URL: 'x', PLAIN: 'y' },
      },
    });
    assert.deepEqual(safe, {
      s3: { endpoint: 'http://***@h', secretAccessKey: '***', region: 'r' },
      knative: {
        url: 'https://svc',
        headers: {
          Authorization: '***',
          Cookie: '***',
          'X-Api-Key': '***',
          'X-Service-Token': '***',
          Host: 'svc.example',
        },
        env: { DB_URL: '***', PLAIN: '***' },
      },
    });
  });
});

describe('burst config show', () => {
  it('never prints header values, env values or URL passwords (text and --json)', async () => {
    const secrets = ['BEARERSECRET1', 'COOKIESECRET2', 'APIKEYSECRET3', 'ENVSECRET4', 'URLPASSWORD5', 'S3PASSWORD6'];
    const config = {
      backend: 'knative',
      storage: 's3',
      s3: { endpoint: 'http://minio:S3PASSWORD6@127.0.0.1:7480' },
      knative: {
        url: 'https://user:URLPASSWORD5@burst-worker.example',
        headers: {
          Authorization: 'Bearer BEARERSECRET1',
          Cookie: 'session=COOKIESECRET2',
          'X-Api-Key': 'APIKEYSECRET3',
          Host: 'burst-worker.default.example.com',
        },
        env: { DATABASE_PASSWORD: 'ENVSECRET4' },
      },
    };
    const env = { BURST_CONFIG: JSON.stringify(config) };
    const text = ok(await burst(['config', 'show'], box, { env }));
    const json = ok(await burst(['config', 'show', '--json'], box, { env }));
    for (const r of [text, json])
      for (const s of secrets) assert.ok(!(r.stdout + r.stderr).includes(s), `config show printed ${s}:\n${r.stdout}`);
    assert.match(text.stdout, /knative\.headers\.Authorization +"\*\*\*"/);
    assert.match(text.stdout, /knative\.headers\.Host +"burst-worker\.default\.example\.com"/);
    assert.match(text.stdout, /knative\.env\.DATABASE_PASSWORD +"\*\*\*"/);
    assert.match(text.stdout, /s3\.endpoint +"http:\/\/\*\*\*@127\.0\.0\.1:7480"/);
    assert.match(text.stdout, /6 secret values hidden/);
  });
});

describe('error messages', () => {
  it('an unreachable endpoint with user:password in BURST_S3_ENDPOINT is named without the password', async () => {
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    const env = {
      BURST_S3_ENDPOINT: 'http://u:ENDPOINTPASS7@127.0.0.1:9',
      BURST_S3_MAX_ATTEMPTS: '1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
    };
    for (const extra of [{}, { BURST_LOG: 'debug' }]) {
      const r = fails(
        await burst(['storage', 'ls', 's3://some-bucket/'], box, { env: { ...env, ...extra } }),
        'StorageUnavailableError',
        'http://***@127.0.0.1:9',
      );
      assert.ok(!(r.stdout + r.stderr).includes('ENDPOINTPASS7'), r.stderr);
    }
    const bad = fails(
      await burst(['storage', 'ls', 's3://some-bucket/'], box, {
        env: { BURST_S3_ENDPOINT: 'ftp://u:ENDPOINTPASS7@h' },
      }),
      'must be an http:// or https:// URL',
    );
    assert.ok(!bad.stderr.includes('ENDPOINTPASS7'), bad.stderr);
  });

  it('in the API too: a BurstError message never holds the password', async () => {
    const driver = s3({
      endpoint: 'http://u:APIPASS8@127.0.0.1:9',
      maxAttempts: 1,
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
    });
    try {
      await assert.rejects(
        driver.head('b', 'k'),
        (err: Error) =>
          err instanceof StorageUnavailableError &&
          !err.message.includes('APIPASS8') &&
          !String(err.stack).includes('APIPASS8'),
      );
    } finally {
      await driver.close?.();
    }
  });
});

describe('status records of a call whose input is a presigned URL', () => {
  let server: Server;
  let url = '';
  before(async () => {
    // Serves a "presigned" object: HEAD answers (so the map is planned), GET fails (so the call fails on it).
    server = createServer((req, res) => {
      if (req.method === 'HEAD')
        res.writeHead(200, { 'content-length': '10', 'accept-ranges': 'bytes', etag: '"v1"' }).end();
      else res.writeHead(500).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data.csv?X-Amz-Credential=CREDSECRET9&X-Amz-Signature=SIGSECRET10&X-Amz-Security-Token=TOKSECRET11`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const channel of ['storage', 'ipc'] as const) {
    it(`keeps no signature, credential or token in storage (${channel} channel), burst logs or the dashboard API`, async () => {
      const fexec = new FunctionExecutor({
        fs: { root: box.root },
        localhost: { channel },
        workers: 1,
        progress: false,
      });
      let jobRef = '';
      try {
        const futures = await fexec.map(lengthOf, url);
        jobRef = `${fexec.executorId}/${futures[0]?.jobId}`;
        const [result] = await fexec.getResult(futures, { throwOnError: false, timeout: 60 });
        assert.ok(
          result instanceof Error && /PartitionError.*answered 500/.test(result.message),
          `the call fails reading the URL, got ${String(result)}`,
        );
        assert.ok(
          !/SECRET/.test(`${result.message} ${JSON.stringify(result)}`),
          `the client error holds a secret: ${JSON.stringify(result)}`,
        );
      } finally {
        await fexec.close();
      }
      // The job's data object holds the URL itself (the worker must fetch it); its status records must not.
      const jobDir = join(box.root, 'burst', 'burst', 'jobs', ...jobRef.split('/'));
      const statusFiles = readdirSync(jobDir)
        .filter((d) => d.startsWith('status'))
        .map((d) => allText(join(jobDir, d)))
        .join('\n');
      assert.match(statusFiles, /status/, 'the job has status records');
      assert.match(statusFiles, /X-Amz-Signature=\*\*\*/, 'the record still names the input (redacted)');
      for (const s of ['CREDSECRET9', 'SIGSECRET10', 'TOKSECRET11'])
        assert.ok(!statusFiles.includes(s), `storage holds ${s}`);
      const logs = ok(await burst(['logs', jobRef, '--json'], box));
      assert.ok(!/SECRET/.test(logs.stdout), logs.stdout);
    });

    it(`stores the error and output of a function that prints and throws a signed URL without its secrets (${channel} channel)`, async () => {
      const fexec = new FunctionExecutor({
        fs: { root: box.root },
        localhost: { channel },
        workers: 1,
        progress: false,
      });
      let jobDir = '';
      try {
        const futures = await fexec.map(leaky, [url], { dataInputs: false });
        jobDir = join(box.root, 'burst', 'burst', 'jobs', fexec.executorId, futures[0]?.jobId as string);
        await fexec.getResult(futures, { throwOnError: false, timeout: 60 });
      } finally {
        await fexec.close();
      }
      const statusFiles = readdirSync(jobDir)
        .filter((d) => d.startsWith('status'))
        .map((d) => allText(join(jobDir, d)))
        .join('\n');
      assert.match(statusFiles, /fetch http:.*X-Amz-Signature=\*\*\*/, 'the stored error keeps the message, redacted');
      for (const s of ['CREDSECRET9', 'SIGSECRET10', 'TOKSECRET11'])
        assert.ok(!statusFiles.includes(s), `a status record holds ${s}`);
    });
  }
});

describe('display of records written by older workers', () => {
  it('burst logs and the dashboard API hide secrets found in stored logs and errors', async () => {
    const storage = await sandboxStorage(box);
    const jobKey = await writeManifest(storage, 'mx000000-old001', 'M000', 1);
    const failing = statusRecord(0, Date.now(), {
      fail: 'GET https://bucket.example/k?X-Amz-Signature=OLDSIG12 answered 403',
      logs: 'calling with Authorization: Bearer OLDBEARER13xyz\n',
    });
    await writeStatuses(storage, jobKey, [failing]);
    for (const args of [
      ['logs', 'mx000000-old001/M000'],
      ['logs', 'mx000000-old001/M000', '--json'],
    ]) {
      const r = ok(await burst(args, box));
      assert.ok(!/OLDSIG12|OLDBEARER13/.test(r.stdout + r.stderr), r.stdout);
      assert.match(r.stdout, /X-Amz-Signature=\*\*\*/);
    }
    const data = new DashboardData(storage, 'burst');
    const detail =
      JSON.stringify(await data.job('mx000000-old001/M000')) +
      JSON.stringify(await data.call('mx000000-old001/M000', 0));
    assert.ok(!/OLDSIG12|OLDBEARER13/.test(detail), detail);
    assert.match(detail, /X-Amz-Signature=\*\*\*/);
  });
});

describe('credentials over plain http', () => {
  it('warns once for an s3 endpoint on another host, never for loopback or https', async () => {
    const seen: string[] = [];
    const listen = (w: Error & { code?: string }): void => void (w.code === PLAIN_HTTP_WARNING && seen.push(w.message));
    process.on('warning', listen);
    try {
      // Creating a driver sends nothing: no request leaves this machine.
      for (const endpoint of [
        'http://127.0.0.1:7480',
        'http://localhost:7480',
        'https://10.77.0.1:7480',
        'http://10.77.0.1:7480',
        'http://10.77.0.1:7480',
      ])
        await s3({ endpoint }).close?.();
      // The copy a worker re-creates from the driver's config stays quiet (the client has warned).
      const client = s3({ endpoint: 'http://10.77.0.9:7480' });
      assert.equal(client.config.options.plainHttpWarning, false);
      // (another host, so the once-per-host rule cannot hide a warning the flag failed to stop)
      await s3({ ...client.config.options, endpoint: 'http://10.77.0.10:7480' }).close?.();
      await client.close?.();
      assert.equal(
        warnPlainHttpCredentials('http://10.77.0.2:8080', 'knative requests (bearer token, storage credentials)'),
        true,
      );
      assert.equal(
        warnPlainHttpCredentials('http://10.77.0.2:8080', 'knative requests (bearer token, storage credentials)'),
        false,
        'once',
      );
      assert.equal(
        warnPlainHttpCredentials('http://10.77.0.3:8080', 'knative requests', false),
        false,
        'nothing to protect',
      );
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listen);
    }
    assert.equal(seen.length, 3, seen.join('\n'));
    assert.match(seen[0] ?? '', /S3 requests signed with your access key .* http:\/\/10\.77\.0\.1:7480/);
    assert.match(seen[1] ?? '', /S3 requests .* http:\/\/10\.77\.0\.9:7480/);
    assert.match(seen[2] ?? '', /knative requests .* http:\/\/10\.77\.0\.2:8080/);
  });
});
