/**
 * `burst plot <job>`: the timeline, concurrency and run-time plots of a job, after the fact, from the
 * status records in storage (the same charts as `fexec.plot()`), and its summary table. Calls read
 * from storage have no client-side times: "submitted" is when the job was written and "result" is
 * when the status record was.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { abandonedReason, countCalls, jobState, readJobCalls, resolveJob } from '../stats/catalog.js';
import { formatSummary } from '../stats/format.js';
import { pricedBackends, pricesOf } from '../stats/cost.js';
import { summarizeJob } from '../stats/summary.js';
import { out, printJson, withConfigOption, withStorage } from './client-config.js';

interface PlotFlags {
  config?: string;
  dir: string;
  backend?: string;
  memory?: string;
  json?: boolean;
}

/** Adds `burst plot` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('plot')
    .description(
      'Write SVG plots (timeline of calls, concurrency, run times) and print the summary of a job in storage',
    )
    .argument(
      '<job>',
      '<executor>/<job> (as `burst jobs` lists them), a job id such as M000 (newest executor), or latest',
    )
    .option('-d, --dir <dir>', 'folder to write the SVG files to', 'burst-plots')
    .option('--backend <name>', 'estimate the cost as if run on this backend (e.g. aws_lambda)')
    .option('--memory <mb>', 'memory per worker in MB, for the cost estimate')
    .option('--json', 'print the summary and the files written as JSON');
  withConfigOption(cmd).action(async (ref: string, flags: PlotFlags, self: Command) => {
    const memoryMB = flags.memory === undefined ? undefined : Number(flags.memory);
    if (memoryMB !== undefined && !(Number.isInteger(memoryMB) && memoryMB > 0))
      self.error(`error: --memory must be a positive integer number of MB, got ${JSON.stringify(flags.memory)}`);
    if (flags.backend !== undefined && !pricesOf(flags.backend))
      self.error(
        `error: no price table for backend ${JSON.stringify(flags.backend)}; known: ${pricedBackends().join(', ')}`,
      );
    await withStorage(flags, async ({ storage, bucket }) => {
      const job = await resolveJob(storage, bucket, ref);
      const { calls, statuses } = await readJobCalls(storage, bucket, job);
      const counts = countCalls(job, statuses);
      const state = jobState(job, counts);
      if (calls.length === 0) self.error(`error: job ${job.executorId}/${job.jobId} has no calls to plot`);
      const { plotTimeline } = await import('../stats/plot.js');
      const files = await plotTimeline(calls, resolve(flags.dir));
      const summary = summarizeJob(calls, { ...(flags.backend ? { backend: flags.backend } : {}), memoryMB });
      if (flags.json) return printJson({ job: `${job.executorId}/${job.jobId}`, state, files, summary });
      out(formatSummary([summary]).trimEnd());
      if (state === 'abandoned') out(`\n${abandonedReason(job, counts)}`);
      else if (state === 'running')
        out(`\nstill running: ${counts.pending} of ${counts.calls} calls have no result yet`);
      out();
      for (const f of files) out(`wrote ${f}`);
    });
  });
}
