/**
 * `burst storage` run as a child process, as a user runs it: output, files written, exit codes, and
 * wrong usage. The fs store runs always; the s3 part runs on the Ceph gateway when it is available.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureCeph } from '../services.js';
import { uniqueBucket } from './helpers.js';

const repo = new URL('../..', import.meta.url).pathname;
const hook = new URL('./sdk-trace-hook.mjs', import.meta.url).pathname;
/** tsx by absolute URL, so that the CLI can run from any working directory. */
const tsx = import.meta.resolve('tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `burst storage ...` with tsx and the AWS SDK trace hook. */
function burst(args: string[], env: Record<string, string | undefined> = {}, cwd = repo): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', tsx, '--import', hook, join(repo, 'src/cli/main.ts'), 'storage', ...args],
      { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `burst storage ...`, reads its first line and closes the pipe, as `| head -n 1` does. */
function headOne(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ firstLine: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, join(repo, 'src/cli/main.ts'), 'storage', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let firstLine = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (firstLine) return;
      firstLine = d.toString().split('\n')[0] ?? '';
      child.stdout.destroy();
    });
    child.on('close', (code) => resolve({ firstLine, stderr, code }));
  });
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function fails(r: Run, ...parts: string[]): Run {
  assert.equal(r.code, 1, `expected exit 1\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  for (const p of parts) assert.ok(r.stderr.includes(p), `stderr should include ${JSON.stringify(p)}: ${r.stderr}`);
  return r;
}

/** A folder of local files to upload. */
function localTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'burst-cli-src-'));
  mkdirSync(join(dir, 'data', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'data', 'a.csv'), 'a\n');
  writeFileSync(join(dir, 'data', 'deep', 'b.csv'), 'b\n');
  writeFileSync(join(dir, 'data', 'notes.txt'), 'n\n');
  return dir;
}

describe('burst storage (fs store)', () => {
  const env = { BURST_FS_ROOT: mkdtempSync(join(tmpdir(), 'burst-cli-root-')) };

  it('prints help for the command and each subcommand', async () => {
    const top = ok(await burst(['--help']));
    for (const sub of ['ls', 'put', 'get', 'rm', 'cat', 'mb']) assert.match(top.stdout, new RegExp(`\\n  ${sub} `));
    assert.match(ok(await burst(['put', '--help'])).stdout, /globs/);
    assert.match(ok(await burst(['ls', '--help'])).stdout, /--json/);
  });

  it('refuses wrong usage with exit code 1 and a message', async () => {
    fails(await burst(['put']), "missing required argument 'sources'");
    fails(await burst(['put', 'only-one']), 'needs at least one source and a destination');
    fails(await burst(['frobnicate']), 'unknown command');
    fails(await burst(['ls', '--bogus', 'x']), "unknown option '--bogus'");
    fails(await burst(['get', 'fs://b/k', '-c', 'zero'], env), '--concurrency must be a positive integer');
  });

  it('makes a bucket, puts files and globs, lists (text and JSON), cats, gets and removes', async () => {
    const src = localTree();
    ok(await burst(['mb', 'fs://demo'], env));
    const put1 = ok(await burst(['put', join(src, 'data', 'a.csv'), 'fs://demo/one/a.csv'], env));
    assert.match(put1.stdout, /upload: .*a\.csv to fs:\/\/demo\/one\/a\.csv/);
    ok(await burst(['put', 'data/**/*.csv', 'demo/many/'], env, src));
    assert.equal(ok(await burst(['cat', 'fs://demo/many/deep/b.csv'], env)).stdout, 'b\n');

    const text = ok(await burst(['ls', 'fs://demo/'], env)).stdout;
    assert.match(text, /PRE many\//);
    assert.match(text, /PRE one\//);
    const listed = JSON.parse(ok(await burst(['ls', '-r', '--json', 'fs://demo'], env)).stdout) as Array<{
      key: string;
      size: number;
    }>;
    assert.deepEqual(
      listed.map((e) => [e.key, e.size]),
      [
        ['many/a.csv', 2],
        ['many/deep/b.csv', 2],
        ['one/a.csv', 2],
      ],
    );
    assert.deepEqual(JSON.parse(ok(await burst(['ls', '--json', 'fs://demo/nothing/'], env)).stdout), []);

    const out = mkdtempSync(join(tmpdir(), 'burst-cli-out-'));
    ok(await burst(['get', 'fs://demo/many/', join(out, 'all')], env));
    assert.equal(readFileSync(join(out, 'all', 'deep', 'b.csv'), 'utf8'), 'b\n');
    ok(await burst(['get', 'fs://demo/many/**/b.csv', join(out, 'glob'), '-q'], env));
    assert.equal(readFileSync(join(out, 'glob', 'deep', 'b.csv'), 'utf8'), 'b\n');
    ok(await burst(['get', 'fs://demo/one/a.csv', join(out, 'single.csv')], env));
    assert.equal(readFileSync(join(out, 'single.csv'), 'utf8'), 'a\n');

    fails(await burst(['rb', 'fs://demo'], env), 'BUCKET_NOT_EMPTY', '"demo"');
    assert.match(ok(await burst(['rm', 'fs://demo/one/a.csv'], env)).stdout, /delete: fs:\/\/demo\/one\/a\.csv/);
    fails(await burst(['rm', 'fs://demo/many/'], env), 'use --recursive');
    assert.equal(ok(await burst(['rm', '-r', '-q', 'fs://demo/many/'], env)).stdout, '');
    assert.equal(ok(await burst(['ls', '-r', 'fs://demo'], env)).stdout, '');
    ok(await burst(['rb', 'fs://demo'], env));
  });

  it('reports missing buckets, keys and files with the error class and exit code 1', async () => {
    ok(await burst(['mb', 'fs://errs'], env));
    fails(await burst(['cat', 'fs://errs/missing.txt'], env), 'NoSuchKeyError', '"missing.txt"', '"errs"');
    fails(await burst(['ls', 'fs://nobucket/'], env), 'NoSuchBucketError', '"nobucket"');
    fails(
      await burst(['put', join(repo, 'package.json'), 'fs://nobucket/p.json'], env),
      'burst storage mb fs://nobucket',
    );
    fails(await burst(['put', '/no/such/file.txt', 'fs://errs/x'], env), 'NO_SUCH_FILE', '/no/such/file.txt');
    fails(await burst(['put', '/tmp/no-such-dir-*/x.csv', 'fs://errs/'], env), 'no files match');
    fails(await burst(['put', repo, 'fs://errs/'], env), 'is a folder', '/**');
    fails(await burst(['get', 'fs://errs/none/', '/tmp/x'], env), 'no objects match');
    fails(await burst(['cat', 'fs://errs/../etc/passwd'], env), 'InvalidKeyError');
  });

  it('lists the buckets for fs:// or no location (issue 13)', async () => {
    ok(await burst(['mb', 'fs://listed-a'], env));
    ok(await burst(['mb', 'fs://listed-b'], env));
    for (const args of [['ls', 'fs://'], ['ls']]) {
      const text = ok(await burst(args, env)).stdout;
      assert.match(text, /BUCKET fs:\/\/listed-a\n/);
      assert.match(text, /BUCKET fs:\/\/listed-b\n/);
    }
    const json = JSON.parse(ok(await burst(['ls', '--json', 'fs://'], env)).stdout) as Array<{ bucket: string }>;
    assert.ok(json.some((b) => b.bucket === 'listed-a'));
  });

  it('takes every local path form that map takes: ./rel/, ../rel, /abs/, file:// (issue 13)', async () => {
    const src = localTree();
    const sub = join(src, 'data', 'deep');
    const abs = ok(await burst(['ls', `${join(src, 'data')}/`], env)).stdout;
    assert.match(abs, new RegExp(`PRE ${join(src, 'data', 'deep')}/\n`));
    assert.match(abs, new RegExp(` 2 ${join(src, 'data', 'a.csv')}\n`));
    assert.equal(ok(await burst(['ls', './data/'], env, src)).stdout, abs);
    assert.equal(ok(await burst(['ls', `file://${join(src, 'data')}/`], env)).stdout, abs);
    assert.match(
      ok(await burst(['ls', '-r', '../'], env, sub)).stdout,
      new RegExp(` 2 ${join(src, 'data', 'deep', 'b.csv')}\n`),
    );
    assert.equal(ok(await burst(['cat', './data/notes.txt'], env, src)).stdout, 'n\n');
    assert.equal(ok(await burst(['cat', '../a.csv'], env, sub)).stdout, 'a\n');
    const out = mkdtempSync(join(tmpdir(), 'burst-cli-local-'));
    ok(await burst(['get', './data/', join(out, 'copy'), '-q'], env, src));
    assert.equal(readFileSync(join(out, 'copy', 'deep', 'b.csv'), 'utf8'), 'b\n');
    // Writing or deleting through a plain local path is refused (a file:// URL says it on purpose).
    fails(await burst(['rm', '-r', './data/'], env, src), 'is a local path', 'burst storage rm');
    fails(await burst(['put', join(src, 'data', 'a.csv'), `${src}/elsewhere/`], env), 'is a local path');
    assert.equal(readFileSync(join(src, 'data', 'a.csv'), 'utf8'), 'a\n');
    // bucket/key still means the configured store.
    ok(await burst(['mb', 'fs://plain'], env));
    ok(await burst(['put', join(src, 'data', 'a.csv'), 'plain/a.csv'], env));
    assert.equal(ok(await burst(['cat', 'fs://plain/a.csv'], env)).stdout, 'a\n');
  });

  it('acts on the store of the config file (fs.root), as burst jobs and map do; flags override it (issue 13)', async () => {
    const work = mkdtempSync(join(tmpdir(), 'burst-cli-cfg-'));
    const root = join(work, 'configured-root');
    writeFileSync(join(work, 'burst.config.json'), JSON.stringify({ fs: { root } }));
    const { createStorage } = await import('../../src/storage/index.js');
    const store = await createStorage('fs', { root });
    await store.createBucket('cfgb');
    await store.put('cfgb', 'only-here.txt', 'configured\n');
    const noEnv = { BURST_FS_ROOT: undefined };
    assert.equal(ok(await burst(['cat', 'fs://cfgb/only-here.txt'], noEnv, work)).stdout, 'configured\n');
    assert.equal(ok(await burst(['cat', 'cfgb/only-here.txt'], noEnv, work)).stdout, 'configured\n');
    assert.match(ok(await burst(['ls', 'fs://'], noEnv, work)).stdout, /BUCKET fs:\/\/cfgb\n/);
    // BURST_FS_ROOT overrides the file (as for the executor), and --root overrides both.
    fails(await burst(['cat', 'fs://cfgb/only-here.txt'], env, work), 'NoSuchBucketError');
    assert.equal(ok(await burst(['--root', root, 'cat', 'fs://cfgb/only-here.txt'], env, work)).stdout, 'configured\n');
    // --config names the file from anywhere.
    assert.equal(
      ok(await burst(['--config', join(work, 'burst.config.json'), 'cat', 'cfgb/only-here.txt'], noEnv, tmpdir()))
        .stdout,
      'configured\n',
    );
  });

  it('exits 0 quietly when the reader closes the pipe early (ls | head, cat | head) (issue 13)', async () => {
    const { createStorage } = await import('../../src/storage/index.js');
    const store = await createStorage('fs', { root: env.BURST_FS_ROOT });
    await store.createBucket('many');
    const body = 'x'.repeat(1 << 20);
    await store.put('many', 'big.txt', body);
    for (let i = 0; i < 4000; i += 200)
      await Promise.all(
        Array.from({ length: 200 }, (_, j) => store.put('many', `k${String(i + j).padStart(5, '0')}`, 'x')),
      );
    for (const args of [
      ['ls', '-r', 'fs://many/'],
      ['ls', '-r', '--json', 'fs://many/'],
      ['cat', 'fs://many/big.txt'],
    ]) {
      const r = await headOne(args, env);
      assert.equal(r.firstLine.length > 0, true, `no output from ${args.join(' ')}`);
      assert.equal(r.stderr, '', `${args.join(' ')} printed on stderr:\n${r.stderr}`);
      assert.equal(r.code, 0, `${args.join(' ')} exited ${r.code}`);
    }
  });

  it('draws a progress bar when asked, and never loads the AWS SDK for local stores', async () => {
    const src = localTree();
    ok(await burst(['mb', 'fs://prog'], env));
    const r = ok(await burst(['put', '--progress', join(src, 'data', 'a.csv'), 'fs://prog/a.csv'], env));
    assert.match(r.stderr, /100%/);
    assert.ok(!r.stderr.includes('AWS-SDK-LOADED'), r.stderr);
  });
});

const ceph = await ensureCeph();
describe('burst storage (s3 on Ceph RGW)', {
  skip: 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : false,
}, () => {
  const c = ceph as { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string };
  const env = {
    BURST_S3_ENDPOINT: c.endpoint,
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_REGION: c.region,
    AWS_PROFILE: undefined,
  };
  const bucket = uniqueBucket('cli');

  it('uses BURST_S3_ENDPOINT and the AWS variables', async () => {
    const src = localTree();
    ok(await burst(['mb', `s3://${bucket}`], env));
    ok(await burst(['put', 'data/*', `s3://${bucket}/in/`], env, src));
    assert.equal(ok(await burst(['cat', `s3://${bucket}/in/notes.txt`], env)).stdout, 'n\n');
    ok(await burst(['--storage', 's3', 'ls', `${bucket}/in/`], env));
    const keys = (
      JSON.parse(ok(await burst(['ls', '-r', '--json', `s3://${bucket}`], env)).stdout) as Array<{ key: string }>
    ).map((e) => e.key);
    assert.deepEqual(keys, ['in/a.csv', 'in/notes.txt']);
  });

  it('lists the buckets for s3:// (issue 13)', async () => {
    assert.match(ok(await burst(['ls', 's3://'], env)).stdout, new RegExp(`BUCKET s3://${bucket}\n`));
  });

  it('takes storage and s3.endpoint from the config file, as burst jobs and map do (issue 13)', async () => {
    const work = mkdtempSync(join(tmpdir(), 'burst-cli-s3cfg-'));
    writeFileSync(join(work, 'burst.config.json'), JSON.stringify({ storage: 's3', s3: { endpoint: c.endpoint } }));
    const noEndpoint = {
      ...env,
      BURST_S3_ENDPOINT: undefined,
      AWS_ENDPOINT_URL: undefined,
      AWS_ENDPOINT_URL_S3: undefined,
    };
    const keys = (
      JSON.parse(ok(await burst(['ls', '-r', '--json', `${bucket}/in/`], noEndpoint, work)).stdout) as Array<{
        key: string;
      }>
    ).map((e) => e.key);
    assert.deepEqual(keys, ['in/a.csv', 'in/notes.txt']);
    assert.equal(ok(await burst(['cat', `s3://${bucket}/in/notes.txt`], noEndpoint, work)).stdout, 'n\n');
  });

  it('bad credentials: StorageAuthError, exit 1, and the secret is never printed', async () => {
    const secret = 'cli-wrong-secret-NEVER-PRINT-42';
    const r = fails(
      await burst(['ls', `s3://${bucket}`], { ...env, AWS_SECRET_ACCESS_KEY: secret }),
      'StorageAuthError',
      c.endpoint,
    );
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret));
  });

  it('refuses to download keys that would escape the destination folder', async () => {
    const { s3 } = await import('../../src/storage/s3/driver.js');
    const d = s3({
      endpoint: c.endpoint,
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      region: c.region,
    });
    try {
      await d.put(bucket, 'evil/../../../tmp/pwned', 'x');
    } finally {
      await d.close?.();
    }
    const out = mkdtempSync(join(tmpdir(), 'burst-cli-evil-'));
    fails(await burst(['get', `s3://${bucket}/evil/`, out], env), 'InvalidKeyError', '".."');
    ok(await burst(['rb', '--force', `s3://${bucket}`], env));
  });
});
