/**
 * The `burst` commands run as a user runs them (child processes; output and exit code, wrong usage
 * too): help, hello, test, run, and jobs / logs / plot / clean on jobs in storage, one made by a real
 * executor through storage and one left as status batches (as the localhost IPC channel leaves them).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FunctionExecutor } from '../../src/index.ts';
import { noisy } from './fixtures/tasks.ts';
import {
  burst,
  cliArgs,
  fails,
  ok,
  sandbox,
  sandboxStorage,
  statusRecord,
  writeManifest,
  writeStatuses,
  type Sandbox,
} from './helpers.ts';

const COMMANDS = ['hello', 'test', 'run', 'config', 'jobs', 'logs', 'clean', 'plot', 'dashboard'];

let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

describe('burst --help', () => {
  it('lists every command, and every command has --help', async () => {
    const top = ok(await burst(['--help'], box));
    for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`\\n  ${c} `), `burst --help should list ${c}`);
    const helps = await Promise.all(COMMANDS.map((c) => burst([c, '--help'], box)));
    helps.forEach((r, i) => assert.match(ok(r).stdout, new RegExp(`^Usage: burst ${COMMANDS[i]} `)));
  });

  it('refuses unknown commands and options with exit code 1', async () => {
    const [a, b, c] = await Promise.all([
      burst(['helo'], box),
      burst(['jobs', '--bogus'], box),
      burst(['hello', '--calls', 'many'], box),
    ]);
    assert.equal(fails(a, "unknown command 'helo'").code, 1);
    assert.equal(fails(b, "unknown option '--bogus'").code, 1);
    assert.equal(fails(c, '--calls must be a positive integer, got "many"').code, 1);
  });
});

describe('burst hello', () => {
  it('runs a tiny map on the default backend and storage and says where it ran', async () => {
    const r = ok(await burst(['hello'], box));
    assert.match(
      r.stdout,
      new RegExp(`Hello from Burst: 4 calls of x => x \\* x on localhost, data in fs ${box.root} \\(bucket "burst"\\)`),
    );
    assert.match(r.stdout, /Results: \[ 1, 4, 9, 16 \]/);
    assert.match(r.stdout, /4 calls in \d+\.\d\d s on host \S+, \d worker process(es)? \(executor \S+, job M000\)/);
    assert.match(r.stdout, /\n {2}call +input +output +host +pid +start/);
    const json = JSON.parse(ok(await burst(['hello', '--json', '-n', '3'], box)).stdout) as {
      results: number[];
      calls: Array<{ pid: number; hostname: string }>;
      backend: string;
    };
    assert.deepEqual(json.results, [1, 4, 9]);
    assert.equal(json.backend, 'localhost');
    assert.ok(json.calls.every((c) => Number.isInteger(c.pid) && c.hostname.length > 0));
  });

  it('fails with the reason when the backend does not exist', async () => {
    fails(await burst(['hello'], box, { env: { BURST_BACKEND: 'mainframe' } }), 'unknown backend "mainframe"');
  });
});

describe('burst test', () => {
  it('passes every check on the defaults', async () => {
    const r = ok(await burst(['test'], box));
    for (const name of [
      'configuration',
      'storage bucket "burst"',
      'storage write',
      'storage read',
      'storage list',
      'storage delete',
      'backend localhost',
    ]) {
      assert.match(
        r.stdout,
        new RegExp(`\\n? {2}ok +${name.replace(/"/g, '"')} `),
        `${name} should pass:\n${r.stdout}`,
      );
    }
    assert.match(r.stdout, /All 8 checks passed\./);
  });

  it('says which storage step fails and skips what depends on it (exit 1)', async () => {
    const file = join(box.cwd, 'a-file');
    writeFileSync(file, 'not a folder');
    const r = fails(await burst(['test'], box, { env: { BURST_FS_ROOT: file } }), '1 of 8 checks failed.');
    assert.match(r.stdout, /FAIL +storage bucket "burst" +StorageError/);
    assert.match(r.stdout, /skip +storage write +skipped: storage bucket "burst" failed/);
    assert.match(r.stdout, /skip +backend localhost +skipped: storage checks failed/);
    const json = JSON.parse((await burst(['test', '--json'], box, { env: { BURST_FS_ROOT: file } })).stdout) as {
      ok: boolean;
      checks: Array<{ status: string }>;
    };
    assert.equal(json.ok, false);
  });

  it('reports an invalid configuration as the failed check', async () => {
    const r = fails(
      await burst(['test', '--no-backend'], box, { env: { BURST_WORKERS: 'lots' } }),
      'environment variable BURST_WORKERS: workers must be a positive integer, got "lots"',
    );
    assert.match(r.stdout, /FAIL +configuration/);
    assert.match(r.stdout, /skip +storage +skipped: the configuration is invalid/);
  });
});

describe('burst run', () => {
  it('runs a TypeScript script outside any project that imports burst, with its args and exit code', async () => {
    const dir = join(box.cwd, 'outside');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'main.ts'),
      [
        "import { FunctionExecutor } from 'burst-compute';",
        'const triple = (x: number): number => x * 3;',
        'const fexec = new FunctionExecutor({ progress: false });',
        'const results: number[] = await fexec.getResult(await fexec.map(triple, [1, 2, 3]));',
        'console.log(JSON.stringify({ results, args: process.argv.slice(2) }));',
        'await fexec.close();',
        'process.exitCode = 3;',
      ].join('\n'),
    );
    const r = await burst(['run', 'main.ts', '--size', '10', 'x'], box, { cwd: dir });
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { results: [3, 6, 9], args: ['--size', '10', 'x'] });
  });

  it('refuses a missing script', async () => {
    fails(await burst(['run', 'nowhere.ts'], box), 'cannot find the script');
    fails(await burst(['run'], box), "missing required argument 'script'");
  });
});

describe('jobs, logs, plot and clean on jobs in storage', () => {
  let executorId = '';
  const ipcExecutor = 'mw000000-ipc001';
  before(async () => {
    // A real job, run through storage as remote backends run it; call 3 fails.
    const fexec = new FunctionExecutor({
      fs: { root: box.root },
      localhost: { channel: 'storage' },
      workers: 2,
      progress: false,
    });
    try {
      const futures = await fexec.map(noisy, [0, 1, 2, 3, 4, 5]);
      await fexec.getResult(futures, { throwOnError: false, timeout: 60 });
      executorId = fexec.executorId;
    } finally {
      await fexec.close();
    }
    // A job as the localhost IPC channel persists it: status batches, no manifest.
    const storage = await sandboxStorage(box);
    const t0 = Date.now();
    await storage.put(
      'burst',
      `burst/jobs/${ipcExecutor}/M000/status-batches/00000`,
      JSON.stringify([statusRecord(0, t0, { logs: 'batch call 0\n' }), statusRecord(1, t0)]),
    );
  });

  it('jobs: every executor and job with counts of calls by state', async () => {
    const r = ok(await burst(['jobs'], box));
    assert.match(r.stdout, /^EXECUTOR +JOB +STATE +CALLS +DONE +CACHED +FAILED +PENDING +CREATED +FUNCTION/);
    assert.match(
      r.stdout,
      new RegExp(`\\n${executorId} +M000 +done +6 +5 +0 +1 +0 +\\d{4}-\\d\\d-\\d\\d [\\d:]+ +noisy \\(`),
    );
    assert.match(r.stdout, new RegExp(`\\n${ipcExecutor} +M000 +done +2 +2 +0 +0 +0 +- +-`));
    const json = JSON.parse(ok(await burst(['jobs', executorId, '--json'], box)).stdout) as Array<
      Record<string, unknown>
    >;
    assert.equal(json.length, 1);
    assert.deepEqual(
      { calls: json[0]?.calls, success: json[0]?.success, error: json[0]?.error },
      { calls: 6, success: 5, error: 1 },
    );
    assert.match(ok(await burst(['jobs', 'nobody'], box)).stdout, /No jobs of executor nobody in fs /);
  });

  it('logs: the output of every call and the error of the failed one', async () => {
    const r = ok(await burst(['logs', `${executorId}/M000`], box));
    for (const i of [0, 1, 2, 4, 5])
      assert.match(
        r.stdout,
        new RegExp(`── call ${i} · succeeded · attempt 1 · \\S+ pid \\d+ ──\\nprocessing ${i}\\n`),
      );
    assert.match(
      r.stdout,
      /── call 3 · failed · attempt 1 · \S+ pid \d+ ──\nprocessing 3\nabout to fail on 3\n!! Error: cannot process 3\n/,
    );
    const one = JSON.parse(ok(await burst(['logs', 'M000', '3', '--json'], box)).stdout) as Array<
      Record<string, unknown>
    >;
    assert.equal(one.length, 1);
    assert.equal(one[0]?.logs, 'processing 3\nabout to fail on 3\n');
    assert.match(String((one[0]?.error as { stack: string } | undefined)?.stack), /cannot process 3/);
    assert.match(
      ok(await burst(['logs', `${ipcExecutor}/M000`], box)).stdout,
      /── call 0 · succeeded · attempt 1 · node-a pid 4000 ──\nbatch call 0\n/,
    );
  });

  it('logs: refuses unknown jobs and calls', async () => {
    const [a, b, c, d] = await Promise.all([
      burst(['logs', 'nobody/M000'], box),
      burst(['logs', `${executorId}/M000`, 'three'], box),
      burst(['logs', `${executorId}/M000`, '99'], box),
      burst(['logs'], box),
    ]);
    fails(a, 'NO_SUCH_JOB', 'no job "M000" in executor "nobody"');
    fails(b, 'the call must be a non-negative integer, got "three"');
    fails(c, 'has calls 0 to 5; there is no call 99');
    fails(d, "missing required argument 'job'");
  });

  it('logs --follow: prints calls as their records land, and stops when every call has one', async () => {
    const storage = await sandboxStorage(box);
    const t0 = Date.now();
    const jobKey = await writeManifest(storage, 'mw000001-follow', 'M000', 3, t0);
    await writeStatuses(storage, jobKey, [statusRecord(0, t0, { logs: 'first\n' })]);
    const child = spawn(
      process.execPath,
      [...cliArgs, 'logs', 'mw000001-follow/M000', '--follow', '--interval', '100'],
      { cwd: box.cwd, env: box.env },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const firstSeen = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('first')) resolve();
      }),
    );
    await firstSeen;
    await writeStatuses(storage, jobKey, [
      statusRecord(1, t0, { logs: 'second\n' }),
      statusRecord(2, t0, { fail: 'third failed', logs: 'third\n' }),
    ]);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /── call 0 · succeeded[^\n]*\nfirst\n[\s\S]*── call 1 · succeeded[^\n]*\nsecond\n[\s\S]*── call 2 · failed[^\n]*\nthird\n!! Error: third failed\n/,
    );
    assert.match(stderr, /all 3 calls finished: 2 succeeded, 1 failed/);
  });

  it('plot: SVG timeline, concurrency and histogram of a job, and its summary', async () => {
    const dir = join(box.cwd, 'plots');
    const r = ok(
      await burst(['plot', `${executorId}/M000`, '--dir', dir, '--backend', 'aws_lambda', '--memory', '2048'], box),
    );
    assert.match(r.stdout, new RegExp(`Job ${executorId}/M000: 6 calls \\(5 success, 1 error\\)`));
    assert.match(r.stdout, /\n {2}run +[\d.]+ m?s/);
    assert.match(r.stdout, /estimated cost \$[\d.e-]+ \(AWS Lambda/);
    for (const kind of ['timeline', 'concurrency', 'histogram']) {
      const file = join(dir, `${executorId}-M000-${kind}.svg`);
      assert.match(r.stdout, new RegExp(`wrote ${file}`));
      assert.match(readFileSync(file, 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
    const json = JSON.parse(ok(await burst(['plot', 'latest', '--dir', dir, '--json'], box)).stdout) as {
      files: string[];
      summary: { calls: number };
    };
    assert.equal(json.files.length, 3);
    const [bad, none, priceless] = await Promise.all([
      burst(['plot', 'M000', '--memory', 'big'], box),
      burst(['plot', 'M999'], box),
      burst(['plot', 'M000', '--backend', 'abacus'], box),
    ]);
    fails(bad, '--memory must be a positive integer number of MB, got "big"');
    fails(priceless, 'no price table for backend "abacus"; known: localhost, slurm, aws_lambda');
    fails(none, 'no job "M999"');
  });

  it('clean: counts with --dry-run, removes job data, and bundles with --all', async () => {
    const storage = await sandboxStorage(box);
    const dry = ok(await burst(['clean', '--dry-run'], box));
    assert.match(dry.stdout, /^Would remove \d+ objects: data of \d+ jobs, from fs /);
    const one = ok(await burst(['clean', `${ipcExecutor}/M000`], box));
    assert.match(one.stdout, /^Removed 1 object: data of 1 job, from fs /);
    assert.match(ok(await burst(['clean', ipcExecutor], box)).stdout, /Nothing to remove: no data of mw000000-ipc001/);
    fails(await burst(['clean', '../etc'], box), 'the target must be an executor id or <executor>/<job>');
    fails(await burst(['clean', 'x', '--all'], box), 'cannot be combined with a target');
    ok(await burst(['clean'], box));
    assert.match(ok(await burst(['jobs'], box)).stdout, /^No jobs in fs /);
    const bundles = async (): Promise<number> => {
      let n = 0;
      for await (const e of storage.list('burst', 'burst/functions/')) if ('key' in e) n++;
      return n;
    };
    assert.ok((await bundles()) > 0, 'the storage job uploaded a bundle');
    assert.match(ok(await burst(['clean', '--all'], box)).stdout, /and \d+ function bundles?/);
    assert.equal(await bundles(), 0);
    assert.ok(existsSync(box.root));
  });
});
