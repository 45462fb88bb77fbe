/**
 * `burst jobs [executor]`: the executors and jobs found in storage, with their calls counted by state
 * from the manifests and status records (per-call status objects and status batches alike), and each
 * job's state: done, running (its client holds its lease) or abandoned (calls left, client gone).
 */
import type { Command } from 'commander';
import { countCalls, jobState, listJobs } from '../stats/catalog.js';
import { forEachLimit, readJobStatuses } from '../job/reader.js';
import { columns, dateTime, out, printJson, withConfigOption, withStorage } from './client-config.js';

/** Adds `burst jobs` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('jobs')
    .description('List the executors and jobs found in storage, with their calls by state')
    .argument('[executor]', 'only the jobs of this executor')
    .option('--json', 'print the jobs as JSON');
  withConfigOption(cmd).action(async (executor: string | undefined, flags: { config?: string; json?: boolean }) => {
    await withStorage(flags, async ({ storage, bucket, label }) => {
      const jobs = await listJobs(storage, bucket, executor);
      const rows: Array<Record<string, unknown> & { counts: ReturnType<typeof countCalls> }> = new Array(jobs.length);
      await forEachLimit(
        jobs.map((j, i) => [j, i] as const),
        8,
        async ([job, i]) => {
          const counts = countCalls(job, await readJobStatuses(storage, bucket, job.jobKey));
          rows[i] = {
            executorId: job.executorId,
            jobId: job.jobId,
            jobKey: job.jobKey,
            state: jobState(job, counts),
            function: job.manifest?.functionName ?? null,
            createdAt: job.manifest?.createdAt ?? null,
            counts,
          };
        },
      );
      if (flags.json) return printJson(rows.map(({ counts, ...r }) => ({ ...r, ...counts })));
      if (rows.length === 0) {
        out(
          executor
            ? `No jobs of executor ${executor} in ${label}, bucket "${bucket}".`
            : `No jobs in ${label}, bucket "${bucket}".`,
        );
        return;
      }
      const table = [
        ['EXECUTOR', 'JOB', 'STATE', 'CALLS', 'DONE', 'CACHED', 'FAILED', 'PENDING', 'CREATED', 'FUNCTION'],
      ];
      for (const r of rows) {
        const c = r.counts;
        table.push([
          String(r.executorId),
          String(r.jobId),
          String(r.state),
          String(c.calls),
          String(c.success),
          String(c.cached),
          String(c.error),
          String(c.pending),
          dateTime((r.createdAt as number | null) ?? undefined) || '-',
          String(r.function ?? '-'),
        ]);
      }
      for (const line of columns(table)) out(line);
      if (rows.some((r) => r.state === 'abandoned'))
        out(
          `\nabandoned: calls are left and the job's client is gone (its lease ran out); FunctionExecutor.attach(<executor>, { resubmit: true }) runs the calls that never ran.`,
        );
      const executors = new Set(rows.map((r) => r.executorId)).size;
      out(
        `\n${rows.length} job${rows.length === 1 ? '' : 's'} of ${executors} executor${executors === 1 ? '' : 's'} in ${label}, bucket "${bucket}".`,
      );
    });
  });
}
