/**
 * One validator for storage driver options (issue 20): the driver's schema checks options from a
 * config file, from BURST_<DRIVER>_* variables and from the constructors, and each source gives a
 * ConfigError that names the key and what was expected. The same expectation text from every source
 * shows it is the same schema.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, FunctionExecutor, createStorage, fs, s3 } from '../../src/index.ts';
import { loadConfigSync } from '../../src/config/load.ts';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('no error');
}

function fileWith(config: unknown): string {
  const cwd = mkdtempSync(join(tmpdir(), 'burst-storage-options-'));
  writeFileSync(join(cwd, 'burst.config.json'), JSON.stringify(config));
  return cwd;
}

const PART = 'must be at least 5 MiB (5242880), got 100';

describe('storage options, wherever they come from', () => {
  it('a config file: the file, the key path and what was expected', () => {
    const cwd = fileWith({ s3: { partSize: 100 } });
    const err = configError(() => loadConfigSync({ cwd, env: {} }));
    assert.match(err.message, new RegExp(`burst\\.config\\.json: s3\\.partSize ${PART.replace(/[()]/g, '\\$&')}`));
    assert.equal(err.keyPath, 's3.partSize');
    const fsErr = configError(() => loadConfigSync({ cwd: fileWith({ fs: { shared: 'yes' } }), env: {} }));
    assert.match(fsErr.message, /fs\.shared must be a boolean, got "yes"/);
    assert.equal(fsErr.keyPath, 'fs.shared');
  });

  it('environment variables: kinds derived from the schema convert the text, the schema checks the value', () => {
    const cwd = fileWith({});
    const sockets = configError(() => loadConfigSync({ cwd, env: { BURST_S3_MAX_SOCKETS: 'lots' } }));
    assert.equal(
      sockets.message,
      'environment variable BURST_S3_MAX_SOCKETS: s3.maxSockets must be a positive integer, got "lots"',
    );
    const part = configError(() => loadConfigSync({ cwd, env: { BURST_S3_PART_SIZE: '100' } }));
    assert.equal(part.message, `environment variable BURST_S3_PART_SIZE: s3.partSize ${PART}`);
    const page = configError(() => loadConfigSync({ cwd, env: { BURST_S3_LIST_PAGE_SIZE: '2000' } }));
    assert.match(page.message, /s3\.listPageSize must be at most 1000, got 2000/);
    const fsync = configError(() => loadConfigSync({ cwd, env: { BURST_FS_FSYNC: 'maybe' } }));
    assert.equal(fsync.message, 'environment variable BURST_FS_FSYNC: fs.fsync must be a boolean, got "maybe"');
    // Good values become typed options.
    const good = loadConfigSync({
      cwd,
      env: { BURST_S3_PART_SIZE: '8388608', BURST_S3_DIRECT_READS: 'false', BURST_FS_SHARED: 'true' },
    });
    assert.deepEqual(good.options, { s3: { partSize: 8388608, directReads: false }, fs: { shared: true } });
  });

  it('the executor constructor: refused at construction, keyPath under the section', () => {
    const part = configError(() => new FunctionExecutor({ s3: { partSize: 100 } }));
    assert.equal(part.message, `s3 storage option "partSize" ${PART}`);
    assert.equal(part.keyPath, 's3.partSize');
    const typo = configError(() => new FunctionExecutor({ s3: { endpointt: 'http://x' } as never }));
    assert.equal(typo.message, 'unknown s3 storage option "endpointt"; did you mean "endpoint"?');
    assert.equal(typo.keyPath, 's3.endpointt');
    const root = configError(() => new FunctionExecutor({ fs: { root: '' } }));
    assert.equal(root.message, 'fs storage option "root" must be a non-empty path, got ""');
    assert.equal(root.keyPath, 'fs.root');
    const secret = configError(() => new FunctionExecutor({ s3: { secretAccessKey: 7 as never } }));
    assert.match(
      secret.message,
      /secretAccessKey" must be a non-empty string, got a value \(not shown: it is a secret\)/,
    );
  });

  it('the driver factories and createStorage', async () => {
    assert.equal(configError(() => s3({ partSize: 100 })).message, `s3 storage option "partSize" ${PART}`);
    assert.equal(
      configError(() => fs({ fsync: 1 as never })).message,
      'fs storage option "fsync" must be a boolean, got 1',
    );
    await assert.rejects(
      createStorage('s3', { endpoint: 'ftp://host' }),
      (e) =>
        e instanceof ConfigError &&
        e.message === 's3 storage option "endpoint" must be an http:// or https:// URL, got "ftp://host"' &&
        e.keyPath === 'endpoint',
    );
  });
});
