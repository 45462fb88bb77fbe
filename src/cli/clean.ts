/**
 * `burst clean [target]`: removes job data from storage: every job (`burst/jobs/`) and leftovers of
 * `burst test` (`burst/tmp/`), or only one executor's or one job's. `--all` also removes the cached
 * function bundles (`burst/functions/`), which the next map uploads again.
 */
import type { Command } from 'commander';
import type { StorageDriver } from '../storage/types.js';
import { ROOT, keys } from '../worker/job-layout.js';
import { out, printJson, withConfigOption, withStorage } from './client-config.js';

interface CleanFlags {
  config?: string;
  all?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** Adds `burst clean` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('clean')
    .description('Remove job data from storage (with --all also the cached function bundles)')
    .argument('[target]', 'only this executor, or <executor>/<job>')
    .option('--all', 'also remove cached function bundles (burst/functions/)')
    .option('--dry-run', 'count what would be removed, remove nothing')
    .option('--json', 'print the counts as JSON');
  withConfigOption(cmd).action(async (target: string | undefined, flags: CleanFlags, self: Command) => {
    if (target !== undefined && !/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(target)) self.error(`error: the target must be an executor id or <executor>/<job>, got ${JSON.stringify(target)}`);
    if (target !== undefined && flags.all) self.error('error: --all removes everything; it cannot be combined with a target');
    await withStorage(flags, async ({ storage, bucket, label }) => {
      const prefixes = target === undefined ? [`${ROOT}/jobs/`, `${ROOT}/tmp/`] : [target.includes('/') ? `${keys.job(...(target.split('/') as [string, string]))}/` : keys.executor(target)];
      if (flags.all) prefixes.push(`${ROOT}/functions/`);
      const exists = await storage.bucketExists(bucket);
      const counts = { objects: 0, jobs: 0, bundles: 0 };
      for (const prefix of exists ? prefixes : []) {
        const found = await collect(storage, bucket, prefix);
        counts.objects += found.length;
        counts.jobs += new Set(found.filter((k) => k.startsWith(`${ROOT}/jobs/`)).map((k) => k.split('/').slice(2, 4).join('/'))).size;
        counts.bundles += found.filter((k) => k.startsWith(`${ROOT}/functions/`)).length;
        if (!flags.dryRun && found.length > 0) await storage.delete(bucket, found);
      }
      if (flags.json) return printJson({ dryRun: flags.dryRun === true, ...counts });
      if (target !== undefined && counts.objects === 0) {
        out(`Nothing to remove: no data of ${target} in ${label}, bucket "${bucket}".`);
        return;
      }
      const verb = flags.dryRun ? 'Would remove' : 'Removed';
      const bundles = flags.all ? ` and ${counts.bundles} function bundle${counts.bundles === 1 ? '' : 's'}` : '';
      out(`${verb} ${counts.objects} object${counts.objects === 1 ? '' : 's'}: data of ${counts.jobs} job${counts.jobs === 1 ? '' : 's'}${bundles}, from ${label}, bucket "${bucket}".`);
    });
  });
}

async function collect(storage: StorageDriver, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of storage.list(bucket, prefix)) if ('key' in e) found.push(e.key);
  return found;
}
