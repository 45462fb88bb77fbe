/**
 * Configuration: the lookup order, environment overrides, validation messages (file, key path,
 * expected), unknown-key warnings, secrets never printed; and `burst config show | path | init` run
 * as a user runs them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { loadConfig, loadConfigSync, mergeConfig, redactConfig } from '../../src/config/load.ts';
import { burst, cliArgs, fails, ok, sandbox, type Sandbox } from './helpers.ts';
import { backendNames } from '../../src/backends/index.ts';
import { storageDrivers } from '../../src/storage/registry.ts';

let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

/** A fresh folder inside the sandbox with the given files. */
let n = 0;
function folder(files: Record<string, string> = {}): string {
  const dir = join(box.cwd, `case-${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('finds nothing and warns about nothing when nothing is configured', async () => {
    const cwd = folder();
    const env = { HOME: folder() };
    assert.deepEqual(loadConfigSync({ cwd, env }), { options: {}, origins: {}, warnings: [] });
    assert.deepEqual(await loadConfig({ cwd, env }), { options: {}, origins: {}, warnings: [] });
  });

  it('looks up BURST_CONFIG, BURST_CONFIG_FILE, ./burst.config.*, then ~/.burst/config.json', () => {
    const home = folder({ '.burst/config.json': '{ "bucket": "from-home" }' });
    const cwd = folder({ 'burst.config.json': '{ "bucket": "from-cwd" }', 'other.json': '{ "bucket": "from-var" }' });
    assert.equal(loadConfigSync({ cwd: folder(), env: { HOME: home } }).options.bucket, 'from-home');
    assert.equal(loadConfigSync({ cwd, env: { HOME: home } }).options.bucket, 'from-cwd');
    assert.equal(
      loadConfigSync({ cwd, env: { HOME: home, BURST_CONFIG_FILE: 'other.json' } }).options.bucket,
      'from-var',
    );
    const inline = loadConfigSync({
      cwd,
      env: { HOME: home, BURST_CONFIG_FILE: 'other.json', BURST_CONFIG: '{"bucket":"inline"}' },
    });
    assert.equal(inline.options.bucket, 'inline');
    assert.equal(inline.file, 'BURST_CONFIG');
    assert.equal(loadConfigSync({ cwd, env: { HOME: home }, file: 'other.json' }).options.bucket, 'from-var');
    const missing = configError(() => loadConfigSync({ cwd, env: { BURST_CONFIG_FILE: 'nope.json' } }));
    assert.match(
      missing.message,
      /cannot read the config file .*nope\.json \(from BURST_CONFIG_FILE\): it does not exist/,
    );
  });

  it('loads burst.config.ts and .js modules, synchronously and not', async () => {
    const ts = folder({
      'burst.config.ts':
        "import type { BurstConfig } from 'burst-compute';\nconst workers: number = 3;\nexport default { workers, backend: 'localhost' } satisfies BurstConfig;\n",
    });
    assert.deepEqual(loadConfigSync({ cwd: ts, env: {} }).options, { workers: 3, backend: 'localhost' });
    assert.deepEqual((await loadConfig({ cwd: ts, env: {} })).options, { workers: 3, backend: 'localhost' });
    const js = folder({
      'package.json': '{"type":"module"}',
      'burst.config.js': 'export default () => ({ retries: 2 });\n',
    });
    assert.deepEqual(loadConfigSync({ cwd: js, env: {} }).options, { retries: 2 });
    const broken = folder({ 'burst.config.ts': 'export default { workers: 2 } +;\n' });
    assert.match(
      configError(() => loadConfigSync({ cwd: broken, env: {} })).message,
      /cannot load the config module .*burst\.config\.ts/,
    );
  });

  it('lets BURST_* variables override single keys of the file, converting their text', () => {
    const cwd = folder({ 'burst.config.json': '{ "workers": 2, "timeout": 30, "s3": { "region": "eu-west-1" } }' });
    const env = {
      BURST_WORKERS: '8',
      BURST_PROGRESS: 'false',
      BURST_S3_ENDPOINT: 'http://127.0.0.1:7480',
      BURST_S3_MAX_ATTEMPTS: '2',
      BURST_FS_ROOT: '/data/burst',
      BURST_SLURM_DIR: '/ignored',
    };
    const loaded = loadConfigSync({ cwd, env });
    assert.deepEqual(loaded.options, {
      workers: 8,
      timeout: 30,
      progress: false,
      s3: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:7480', maxAttempts: 2 },
      fs: { root: '/data/burst' },
    });
    assert.equal(loaded.origins.workers, 'BURST_WORKERS');
    assert.equal(loaded.origins.timeout, join(cwd, 'burst.config.json'));
    assert.equal(loaded.origins['s3.endpoint'], 'BURST_S3_ENDPOINT');
  });

  it('names the file or variable, the key path and what was expected', () => {
    const cwd = folder({
      'burst.config.json': '{ "workers": -1, "s3": { "maxAttempts": "five" }, "localhost": { "channel": "pigeon" } }',
    });
    const err = configError(() => loadConfigSync({ cwd, env: {} }));
    const file = join(cwd, 'burst.config.json');
    assert.match(err.message, new RegExp(`${file}: workers must be a positive integer, got -1`));
    assert.match(err.message, /s3\.maxAttempts must be a positive integer, got "five"/);
    assert.match(err.message, /localhost\.channel must be "ipc" or "storage", got "pigeon"/);
    assert.equal(err.keyPath, 'workers');
    const fromEnv = configError(() => loadConfigSync({ cwd: folder(), env: { BURST_TIMEOUT: 'soon' } }));
    assert.equal(
      fromEnv.message,
      'environment variable BURST_TIMEOUT: timeout must be a positive number of seconds, got "soon"',
    );
    const inline = configError(() => loadConfigSync({ cwd: folder(), env: { BURST_CONFIG: '[1, 2]' } }));
    assert.match(inline.message, /environment variable BURST_CONFIG must hold an object of options, got an array/);
  });

  it('drops unknown keys with a warning that suggests the nearest known key', () => {
    const cwd = folder({
      'burst.config.json':
        '{ "workerz": 4, "backend": "localhost", "s3": { "endpiont": "http://x" }, "slurm": { "partiton": "gpu", "qos": "high" } }',
    });
    const loaded = loadConfigSync({ cwd, env: {} });
    assert.deepEqual(loaded.options, { backend: 'localhost', s3: {}, slurm: { qos: 'high' } });
    assert.equal(loaded.warnings.length, 3);
    assert.match(loaded.warnings[0] ?? '', /unknown key "workerz" is ignored; did you mean "workers"\?/);
    assert.match(loaded.warnings[1] ?? '', /unknown key "s3\.endpiont" is ignored; did you mean "s3\.endpoint"\?/);
    // A backend's section knows the keys of its definition's schema.
    assert.match(
      loaded.warnings[2] ?? '',
      /unknown key "slurm\.partiton" is ignored; did you mean "slurm\.partition"\?/,
    );
  });

  it('never shows a secret in an error, and redacts them for printing', () => {
    const cwd = folder({
      'burst.config.json': '{ "s3": { "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": 123456789 } }',
    });
    const err = configError(() => loadConfigSync({ cwd, env: {} }));
    assert.match(
      err.message,
      /s3\.secretAccessKey must be a non-empty string, got a value \(not shown: it is a secret\)/,
    );
    assert.doesNotMatch(err.message, /123456789/);
    // JSON syntax errors may quote the text around the fault: the message keeps only the reason.
    const syntax = configError(() =>
      loadConfigSync({ cwd: folder(), env: { BURST_CONFIG: '{"s3": {"secretAccessKey": SECRETVALUE123}}' } }),
    );
    assert.match(syntax.message, /^environment variable BURST_CONFIG is not valid JSON/);
    assert.doesNotMatch(syntax.message, /SECRETVAL/);
    assert.deepEqual(redactConfig({ s3: { secretAccessKey: 'x', sessionToken: 'y', region: 'r' } }), {
      s3: { secretAccessKey: '***', sessionToken: '***', region: 'r' },
    });
  });

  it('reads comments and trailing commas, and places JSON errors by line and column', () => {
    const cwd = folder({
      'burst.config.json':
        '// my config\n{\n  /* where */ "backend": "localhost", // here\n  "url": "http://a//b",\n}\n',
    });
    const loaded = loadConfigSync({ cwd, env: {} });
    assert.equal(loaded.options.backend, 'localhost');
    const bad = folder({ 'burst.config.json': '{\n  "workers": 2\n  "retries": 1\n}\n' });
    assert.match(
      configError(() => loadConfigSync({ cwd: bad, env: {} })).message,
      /the config file .*burst\.config\.json is not valid JSON at line 3, column 3/,
    );
  });

  it('merges constructor options over the file, key by key', () => {
    const merged = mergeConfig(
      { workers: 2, s3: { region: 'r', endpoint: 'http://a' } },
      { s3: { endpoint: 'http://b' }, timeout: undefined, retries: 1 },
    );
    assert.deepEqual(merged, { workers: 2, s3: { region: 'r', endpoint: 'http://b' }, retries: 1 });
  });
});

describe('burst config', () => {
  it('prints help, and refuses wrong usage', async () => {
    const help = ok(await burst(['config', '--help'], box));
    for (const sub of ['show', 'path', 'init']) assert.match(help.stdout, new RegExp(`\\n  ${sub}`));
    const initHelp = ok(await burst(['config', 'init', '--help'], box)).stdout.replace(/\s+/g, ' ');
    assert.match(initHelp, /--backend <name>/);
    // Every registered backend and storage is named (issue 13: the help named 2 of 6 backends).
    for (const name of backendNames())
      assert.ok(initHelp.includes(name), `config init --help should name the ${name} backend:\n${initHelp}`);
    for (const name of storageDrivers().filter((d) => d !== 'memory'))
      assert.ok(initHelp.includes(name), `config init --help should name the ${name} storage`);
    assert.ok(backendNames().length >= 6);
    fails(await burst(['config', 'frob'], box), "unknown command 'frob'");
    fails(
      await burst(['config', 'init', '--backend', 'mainframe'], box, { cwd: folder() }),
      '--backend must be one of localhost, slurm',
    );
    fails(await burst(['config', 'init', '--format', 'yaml'], box, { cwd: folder() }), '--format must be json or ts');
  });

  it('show: the effective values with where they came from, secrets hidden', async () => {
    const cwd = folder({
      'burst.config.json':
        '{ "storage": "s3", "s3": { "endpoint": "http://127.0.0.1:7480", "secretAccessKey": "TOPSECRETVALUE", "accessKeyId": "AKID" } }',
    });
    const r = ok(await burst(['config', 'show'], box, { cwd, env: { BURST_WORKERS: '3' } }));
    assert.match(r.stdout, new RegExp(`Config file: ${join(cwd, 'burst.config.json')}`));
    assert.match(r.stdout, /\n {2}backend +"localhost" +default\n/);
    assert.match(r.stdout, /\n {2}workers +3 +BURST_WORKERS\n/);
    assert.match(r.stdout, /\n {2}s3\.secretAccessKey +"\*\*\*" +\//);
    assert.doesNotMatch(r.stdout + r.stderr, /TOPSECRETVALUE/);
    const json = JSON.parse(ok(await burst(['config', 'show', '--json'], box, { cwd })).stdout) as {
      options: Record<string, unknown>;
      file: string;
    };
    assert.equal((json.options.s3 as Record<string, unknown>).secretAccessKey, '***');
    assert.equal(json.options.storage, 's3');
  });

  it('show: an invalid file fails naming the file and the key', async () => {
    const cwd = folder({ 'burst.config.json': '{ "retries": 1.5, "bakend": "slurm" }' });
    const r = fails(
      await burst(['config', 'show'], box, { cwd }),
      'burst.config.json: retries must be a non-negative integer, got 1.5',
      'did you mean "backend"?',
    );
    assert.equal(r.code, 1);
  });

  it('path: the file in use, or exit 1 with the places searched', async () => {
    const cwd = folder({ 'burst.config.json': '{}' });
    assert.equal(ok(await burst(['config', 'path'], box, { cwd })).stdout, `${join(cwd, 'burst.config.json')}\n`);
    const none = fails(
      await burst(['config', 'path'], box, { cwd: folder() }),
      'no config file; looked for:',
      '.burst/config.json',
    );
    assert.equal(none.stdout, '');
  });

  it('init: writes a commented starter that loads, refuses to overwrite without --force', async () => {
    const cwd = folder();
    const r = ok(
      await burst(
        ['config', 'init', '--backend', 'slurm', '--storage', 's3', '--endpoint', 'http://127.0.0.1:7480'],
        box,
        { cwd },
      ),
    );
    assert.match(r.stdout, /Wrote .*burst\.config\.json \(backend slurm, storage s3\)/);
    const text = readFileSync(join(cwd, 'burst.config.json'), 'utf8');
    assert.match(text, /^\/\/ Burst configuration/);
    assert.deepEqual(loadConfigSync({ cwd, env: {} }).options, {
      backend: 'slurm',
      storage: 's3',
      bucket: 'burst',
      timeout: 600,
      retries: 0,
      s3: { endpoint: 'http://127.0.0.1:7480' },
      slurm: {},
    });
    fails(await burst(['config', 'init'], box, { cwd }), 'already exists; pass --force');
    ok(await burst(['config', 'init', '--force'], box, { cwd }));
    assert.equal(loadConfigSync({ cwd, env: {} }).options.backend, 'localhost');
    const tsDir = folder();
    ok(await burst(['config', 'init', '--format', 'ts'], box, { cwd: tsDir }));
    assert.deepEqual((await loadConfig({ cwd: tsDir, env: {} })).options, {
      backend: 'localhost',
      storage: 'fs',
      bucket: 'burst',
      timeout: 600,
      retries: 0,
      fs: {},
    });
  });

  it('init: asks for the backend and storage on a terminal', {
    skip: hasScript() ? undefined : 'util-linux `script` is not installed',
  }, () => {
    const cwd = folder();
    // `script` gives the command a pseudo-terminal; the answers arrive on it one line at a time.
    const command = [process.execPath, ...cliArgs, 'config', 'init'].join(' ');
    const output = execFileSync('script', ['-qec', command, '/dev/null'], {
      cwd,
      env: box.env,
      input: 'slurm\nfs\n',
      timeout: 60_000,
    }).toString();
    assert.match(
      output,
      /Where should calls run\? \(localhost, slurm, knative, cloudrun, code_engine, aws_lambda, k8s, openwhisk\) \[localhost\]/,
    );
    assert.match(output, /Where should data live\? \(fs, s3\) \[s3\]/);
    const loaded = loadConfigSync({ cwd, env: {} }).options;
    assert.equal(loaded.backend, 'slurm');
    assert.deepEqual(loaded.fs, { shared: true });
  });
});

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
