/**
 * `burst test`: checks the configuration, storage access (bucket, write, read, list, delete) and the
 * backend (one call), in that order, and says exactly what fails. A check that depends on a failed
 * one is skipped. Exits non-zero when anything failed.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/load.js';
import type { StorageDriver } from '../storage/types.js';
import { keys } from '../job/layout.js';
import { BurstError } from '../errors.js';
import {
  columns,
  loadCliConfig,
  openStorage,
  out,
  positiveInt,
  printJson,
  withConfigOption,
  type OpenedStorage,
} from './client-config.js';

interface TestFlags {
  config?: string;
  json?: boolean;
  backend?: boolean;
  timeout?: string;
}

/** The outcome of one check. */
interface Check {
  name: string;
  status: 'ok' | 'fail' | 'skip';
  detail: string;
  ms?: number;
}

/** Adds `burst test` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('test')
    .description('Check the configuration, storage access (write, read, list, delete) and the backend (one call)')
    .option('--no-backend', 'check configuration and storage only')
    .option('--timeout <seconds>', 'seconds to wait for the backend call', '120')
    .option('--json', 'print the checks as JSON');
  withConfigOption(cmd).action(async (flags: TestFlags) => {
    const checks = await runChecks(flags);
    report(checks, flags.json === true);
    if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
  });
}

async function runChecks(flags: TestFlags): Promise<Check[]> {
  const checks: Check[] = [];
  let loaded: LoadedConfig | undefined;
  await check(checks, 'configuration', async () => {
    loaded = await loadCliConfig(flags);
    const o = loaded.options;
    const what = `backend ${o.backend ?? 'localhost'}, storage ${o.storage ?? 'fs'}, bucket ${o.bucket ?? 'burst'}`;
    const warn = loaded.warnings.length ? `; ${loaded.warnings.length} warning(s) above` : '';
    return `${loaded.file ?? 'no config file (defaults)'}: ${what}${warn}`;
  });
  if (!loaded) return skipRest(checks, ['storage', 'backend'], 'the configuration is invalid');
  const backendCheck = `backend ${loaded.options.backend ?? 'localhost'}`;
  let opened: OpenedStorage | undefined;
  try {
    await check(checks, 'storage', async () => {
      opened = await openStorage((loaded as LoadedConfig).options);
      return opened.label;
    });
    if (!opened) return skipRest(checks, [backendCheck], 'storage could not be opened');
    const storageOk = await storageChecks(checks, opened);
    if (flags.backend === false) return checks;
    if (!storageOk)
      return skipRest(checks, [backendCheck], 'storage checks failed (workers exchange everything through storage)');
    await check(checks, backendCheck, async () =>
      backendCall(loaded as LoadedConfig, positiveInt(flags.timeout, '--timeout', 120)),
    );
  } finally {
    await (opened as OpenedStorage | undefined)?.close();
  }
  return checks;
}

/** Bucket, write, read, list and delete of one temporary object; false when any failed. */
async function storageChecks(checks: Check[], o: OpenedStorage): Promise<boolean> {
  const s: StorageDriver = o.storage;
  const key = keys.tmp(`burst-test-${randomBytes(4).toString('hex')}`);
  const body = `burst test ${new Date().toISOString()}`;
  const steps: Array<[string, () => Promise<string>]> = [
    [
      `storage bucket "${o.bucket}"`,
      async () => {
        if (await s.bucketExists(o.bucket)) return 'exists';
        await s.createBucket(o.bucket);
        return 'created';
      },
    ],
    [
      'storage write',
      async () => {
        await s.put(o.bucket, key, body);
        return `${key} (${body.length} bytes)`;
      },
    ],
    [
      'storage read',
      async () => {
        const got = Buffer.from(await s.get(o.bucket, key)).toString('utf8');
        if (got !== body)
          throw new BurstError(
            'CHECK_FAILED',
            `read back ${got.length} bytes of ${key} in bucket "${o.bucket}" that differ from the ${body.length} written`,
            { bucket: o.bucket, key },
          );
        return 'read back what was written';
      },
    ],
    [
      'storage list',
      async () => {
        for await (const e of s.list(o.bucket, keys.tmpPrefix))
          if ('key' in e && e.key === key) return `found ${key} under ${keys.tmpPrefix}`;
        throw new BurstError(
          'CHECK_FAILED',
          `${key} was written but a listing of ${keys.tmpPrefix} in bucket "${o.bucket}" does not show it`,
          { bucket: o.bucket, key },
        );
      },
    ],
    [
      'storage delete',
      async () => {
        await s.delete(o.bucket, [key]);
        if (await s.exists(o.bucket, key))
          throw new BurstError('CHECK_FAILED', `${key} still exists in bucket "${o.bucket}" after delete`, {
            bucket: o.bucket,
            key,
          });
        return 'deleted';
      },
    ],
  ];
  for (const [name, fn] of steps) {
    if (!(await check(checks, name, fn))) {
      skipRest(
        checks,
        steps.slice(steps.findIndex(([n]) => n === name) + 1).map(([n]) => n),
        `${name} failed`,
      );
      return false;
    }
  }
  return true;
}

/** Runs one call on the configured backend and describes where it ran. */
async function backendCall(loaded: LoadedConfig, timeout: number): Promise<string> {
  const [{ FunctionExecutor }, { helloTask }] = await Promise.all([
    import('../executor/executor.js'),
    import('./hello-task.js'),
  ]);
  const fexec = new FunctionExecutor({ ...loaded.options, progress: false });
  try {
    const future = await fexec.callAsync(helloTask, 7);
    const r = await future.result({ timeout });
    if (r.output !== 49)
      throw new BurstError(
        'CHECK_FAILED',
        `the test call ${future.callId} of job ${future.jobId} returned ${JSON.stringify(r.output)} instead of 49`,
        { callId: future.callId, jobId: future.jobId },
      );
    return `one call ran on ${r.hostname} (pid ${r.pid}, node ${r.node}) and returned its result`;
  } finally {
    await fexec.close();
  }
}

/** Runs a check, records its outcome; true when it passed. */
async function check(checks: Check[], name: string, fn: () => Promise<string>): Promise<boolean> {
  const t0 = Date.now();
  try {
    checks.push({ name, status: 'ok', detail: await fn(), ms: Date.now() - t0 });
    return true;
  } catch (err) {
    checks.push({ name, status: 'fail', detail: describeError(err), ms: Date.now() - t0 });
    return false;
  }
}

function skipRest(checks: Check[], names: string[], why: string): Check[] {
  for (const name of names) checks.push({ name, status: 'skip', detail: `skipped: ${why}` });
  return checks;
}

function describeError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  return `${e.name ?? 'Error'}${e.code && e.code !== e.name ? ` [${e.code}]` : ''}: ${e.message ?? String(err)}`;
}

function report(checks: Check[], json: boolean): void {
  const failed = checks.filter((c) => c.status === 'fail').length;
  if (json) {
    printJson({ ok: failed === 0, checks });
    return;
  }
  const rows = checks.map((c) => [
    c.status === 'ok' ? 'ok' : c.status === 'fail' ? 'FAIL' : 'skip',
    c.name,
    c.detail.split('\n').join('\n        '),
  ]);
  for (const line of columns(rows)) out(`  ${line}`);
  out();
  out(failed === 0 ? `All ${checks.length} checks passed.` : `${failed} of ${checks.length} checks failed.`);
}
