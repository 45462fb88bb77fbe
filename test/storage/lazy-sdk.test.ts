import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const repo = new URL('../..', import.meta.url).pathname;
const hook = new URL('./sdk-trace-hook.mjs', import.meta.url).pathname;

/** Runs a module snippet in a fresh Node with tsx and the SDK trace hook; returns its output. */
function run(code: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', hook, '--input-type=module', '-e', code], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, BURST_FS_ROOT: mkdtempSync(join(tmpdir(), 'burst-lazy-')) },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('lazy loading of the AWS SDK', () => {
  it('importing the storage layer and using fs, memory and an unused s3 driver loads no AWS SDK', () => {
    const r = run(`
      const m = await import('./src/storage/index.ts');
      const s = new m.Storage();
      await s.createBucket('b');
      await s.put('b', 'k', 'v');
      const mem = await m.createStorage('memory');
      await mem.createBucket('b');
      const idle = m.s3({ endpoint: 'http://127.0.0.1:9', accessKeyId: 'a', secretAccessKey: 'b' });
      const cjs = Object.keys((await import('node:module')).createRequire(process.cwd() + '/').cache);
      console.log(JSON.stringify({ text: await s.getText('fs://b/k'), cjs: cjs.filter((p) => p.includes('@aws-sdk')), name: idle.name }));
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { text: 'v', cjs: [], name: 's3' });
    assert.ok(!r.stderr.includes('AWS-SDK-LOADED'), r.stderr);
  });

  it('(control) the trace sees the SDK when an s3 driver makes a request', () => {
    const r = run(`
      const m = await import('./src/storage/index.ts');
      const d = m.s3({ endpoint: 'http://127.0.0.1:9', accessKeyId: 'a', secretAccessKey: 'b', maxAttempts: 1 });
      await d.exists('b', 'k').catch((e) => console.log(e.name));
      await d.close();
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'StorageUnavailableError');
    assert.match(r.stderr, /AWS-SDK-LOADED @aws-sdk\/client-s3/);
  });
});
