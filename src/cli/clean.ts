/**
 * `burst clean [target]`: removes job data from storage: every job (`burst/jobs/`) and leftovers of
 * `burst test` (`burst/tmp/`), or only one executor's or one job's. `--all` also removes the cached
 * function bundles (`burst/functions/`), which the next map uploads again, and the result cache;
 * `--cache` also removes the result cache (`burst/cache/`, see executor/cache.ts). `--runtimes` also deletes
 * what `burst runtime deploy` created on the configured serverless backend (functions, layers, roles).
 *
 * Jobs whose calls have not all reported (waiting or running, perhaps in another process) are kept,
 * with the reason on stderr and exit code 1, unless `--force`: their calls would fail as deleted.
 */
import type { Command } from 'commander';
import type { StorageDriver } from '../storage/types.js';
import { keys, parseJobKey } from '../job/layout.js';
import type { BurstConfig } from '../config/schema.js';
import { loadCliConfig, out, printJson, withConfigOption, withStorage } from './client-config.js';
import { busyJobs, describeBusy } from './clean-busy.js';

interface CleanFlags {
  config?: string;
  all?: boolean;
  cache?: boolean;
  runtimes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  force?: boolean;
}

/** Adds `burst clean` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('clean')
    .description('Remove job data from storage (with --all also the cached function bundles)')
    .argument('[target]', 'only this executor, or <executor>/<job>')
    .option('--all', `also remove cached function bundles (${keys.functionsPrefix}) and the result cache`)
    .option('--cache', `also remove the result cache of \`cache: true\` (${keys.cachePrefix})`)
    .option(
      '--runtimes',
      'also delete the runtimes Burst deployed on the configured serverless backend (functions, layers, roles it made)',
    )
    .option('--dry-run', 'count what would be removed, remove nothing')
    .option(
      '--force',
      'also remove jobs whose calls are still pending or running (those calls then fail with JobNotFoundError)',
    )
    .option('--json', 'print the counts as JSON');
  withConfigOption(cmd).action(async (target: string | undefined, flags: CleanFlags, self: Command) => {
    if (target !== undefined && !/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(target))
      self.error(`error: the target must be an executor id or <executor>/<job>, got ${JSON.stringify(target)}`);
    if (target !== undefined && flags.all)
      self.error('error: --all removes everything; it cannot be combined with a target');
    if (target !== undefined && flags.cache)
      self.error('error: --cache removes the whole result cache; it cannot be combined with a target');
    if (target !== undefined && flags.runtimes)
      self.error('error: --runtimes removes every runtime; it cannot be combined with a target');
    const runtimes = flags.runtimes ? await cleanRuntimes(flags) : undefined;
    await withStorage(flags, async ({ storage, bucket, label }) => {
      const prefixes =
        target === undefined
          ? [keys.jobsPrefix, keys.tmpPrefix]
          : [
              target.includes('/')
                ? keys.jobPrefix(keys.job(...(target.split('/') as [string, string])))
                : keys.executor(target),
            ];
      if (flags.all) prefixes.push(keys.functionsPrefix);
      if (flags.all || flags.cache) prefixes.push(keys.cachePrefix);
      const exists = await storage.bucketExists(bucket);
      const counts = { objects: 0, jobs: 0, bundles: 0, cacheEntries: 0 };
      const busy = flags.force ? [] : await busyJobs(storage, bucket, target);
      // Keep the busy jobs' folders, and with --all the bundles their calls still load.
      const kept = (key: string): boolean =>
        busy.some(
          (b) =>
            key.startsWith(keys.jobPrefix(b.job.jobKey)) ||
            (b.job.manifest !== undefined && key === keys.bundle(b.job.manifest.functionHash)),
        );
      for (const prefix of exists ? prefixes : []) {
        const found = (await collect(storage, bucket, prefix)).filter((k) => !kept(k));
        counts.objects += found.length;
        counts.jobs += new Set(found.map((k) => parseJobKey(k)?.jobKey).filter((k) => k !== undefined)).size;
        counts.bundles += found.filter((k) => k.startsWith(keys.functionsPrefix)).length;
        counts.cacheEntries += found.filter((k) => k.startsWith(keys.cachePrefix)).length;
        if (!flags.dryRun && found.length > 0) await storage.delete(bucket, found);
      }
      if (busy.length > 0) {
        const lines = describeBusy(busy);
        process.stderr.write(
          `burst: ${flags.dryRun ? 'would keep' : 'kept'} ${busy.length} job${busy.length === 1 ? '' : 's'} with calls that have not finished (another process may be running ${busy.length === 1 ? 'it' : 'them'}; deleting makes those calls fail):\n${lines.map((l) => `  ${l}`).join('\n')}\nWait for ${busy.length === 1 ? 'it' : 'them'} to finish, or pass --force to remove ${busy.length === 1 ? 'it' : 'them'} anyway (e.g. jobs left by a client that crashed).\n`,
        );
        process.exitCode = 1;
      }
      if (flags.json)
        return printJson({
          dryRun: flags.dryRun === true,
          ...counts,
          ...(runtimes ? { runtimes } : {}),
          kept: busy.map((b) => ({ job: `${b.job.executorId}/${b.job.jobId}`, pending: b.pending, calls: b.calls })),
        });
      if (target !== undefined && counts.objects === 0 && busy.length === 0) {
        out(`Nothing to remove: no data of ${target} in ${label}, bucket "${bucket}".`);
        return;
      }
      const verb = flags.dryRun ? 'Would remove' : 'Removed';
      const bundles =
        (flags.all ? ` and ${counts.bundles} function bundle${counts.bundles === 1 ? '' : 's'}` : '') +
        (flags.all || flags.cache
          ? ` and ${counts.cacheEntries} result cache entr${counts.cacheEntries === 1 ? 'y' : 'ies'}`
          : '');
      out(
        `${verb} ${counts.objects} object${counts.objects === 1 ? '' : 's'}: data of ${counts.jobs} job${counts.jobs === 1 ? '' : 's'}${bundles}, from ${label}, bucket "${bucket}".`,
      );
    });
  });
}

/** Deletes (or with --dry-run lists) the runtimes of the configured backend; prints what it did. */
async function cleanRuntimes(flags: CleanFlags): Promise<string[]> {
  const config = (await loadCliConfig(flags)).options as BurstConfig & Record<string, unknown>;
  const backend = config.backend ?? 'localhost';
  const { runtimeBackends, runtimeManager } = await import('../runtime/index.js');
  if (!runtimeBackends().includes(backend)) {
    if (!flags.json) out(`The ${backend} backend has no runtimes to delete.`);
    return [];
  }
  const manager = await runtimeManager(backend);
  const section = config[backend];
  const command = {
    backendOptions: typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {},
    bucket: config.bucket ?? 'burst',
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const names = flags.dryRun ? (await manager.list(command)).map((r) => r.name) : await manager.delete(command);
  if (!flags.json)
    out(
      names.length
        ? `${flags.dryRun ? 'Would delete' : 'Deleted'} ${backend} runtimes: ${names.join(', ')}.`
        : `No ${backend} runtimes to delete.`,
    );
  return names;
}

async function collect(storage: StorageDriver, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of storage.list(bucket, prefix)) if ('key' in e) found.push(e.key);
  return found;
}
