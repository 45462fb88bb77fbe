/**
 * `burst logs <job> [call]`: what calls printed (their captured stdout and stderr, stored with their
 * status records), with the error of each failed call. `--follow` prints each call's output as its
 * record lands, until every call of the job has one, or ends (exit code 3) when the job is abandoned.
 */
import { redactRecord } from '../redact.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { abandonedReason, countCalls, jobState, readJobInfo, resolveJob, type JobInfo } from '../stats/catalog.js';
import { readJobStatuses, type StatusCache, type StoredCallStatus } from '../job/reader.js';
import { parseLambdaLocation } from '../backends/aws_lambda/worker/event.js';
import { out, positiveInt, withConfigOption, withStorage, type OpenedStorage } from './client-config.js';

interface LogsFlags {
  config?: string;
  follow?: boolean;
  interval?: string;
  json?: boolean;
}

/** Adds `burst logs` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('logs')
    .description('Print the captured stdout and stderr of the calls of a job, and the errors of failed calls')
    .argument(
      '<job>',
      '<executor>/<job> (as `burst jobs` lists them), a job id such as M000 (newest executor), or latest',
    )
    .argument('[call]', 'only this call (its number in the job)')
    .option('-f, --follow', 'keep printing calls as they finish, until every call has')
    .option('--interval <ms>', 'with --follow, milliseconds between looks at storage', '1000')
    .option('--json', 'print records as JSON (one object per line with --follow)');
  withConfigOption(cmd).action(async (ref: string, call: string | undefined, flags: LogsFlags, self: Command) => {
    let callId: number | undefined;
    if (call !== undefined) {
      callId = Number(call);
      if (!/^\d+$/.test(call))
        self.error(`error: the call must be a non-negative integer, got ${JSON.stringify(call)}`);
    }
    const interval = positiveInt(flags.interval, '--interval', 1000);
    await withStorage(flags, async (opened) => {
      const job = await resolveJob(opened.storage, opened.bucket, ref);
      const calls = job.manifest?.callCount;
      if (callId !== undefined && calls !== undefined && callId >= calls)
        self.error(`error: job ${job.executorId}/${job.jobId} has calls 0 to ${calls - 1}; there is no call ${callId}`);
      if (flags.follow) await follow(opened, job, callId, interval, flags.json === true);
      else await once(opened, job, callId, flags.json === true);
    });
  });
}

async function once(o: OpenedStorage, job: JobInfo, callId: number | undefined, json: boolean): Promise<void> {
  const statuses = (await readJobStatuses(o.storage, o.bucket, job.jobKey)).map(redactRecord); // records of older workers may hold secrets
  const selected = callId === undefined ? statuses : statuses.filter((s) => s.callId === callId);
  if (json) {
    process.stdout.write(`${JSON.stringify(selected.map(asJson), null, 2)}\n`);
    return;
  }
  for (const s of selected) print(s, callId !== undefined);
  const counts = countCalls(job, statuses);
  if (callId !== undefined && selected.length === 0) {
    out(`Call ${callId} of job ${job.executorId}/${job.jobId} has not finished yet (use --follow to wait for it).`);
  } else if (counts.pending > 0 && jobState(job, counts) === 'abandoned') {
    process.stderr.write(`(${abandonedReason(job, counts)})\n`);
  } else if (counts.pending > 0) {
    process.stderr.write(`(${counts.pending} of ${counts.calls} calls have not finished; --follow waits for them)\n`);
  } else if (callId === undefined && selected.every((s) => !s.logs && s.ok)) {
    out(`The ${counts.calls} calls of job ${job.executorId}/${job.jobId} printed nothing.`);
  }
}

async function follow(
  o: OpenedStorage,
  job: JobInfo,
  callId: number | undefined,
  interval: number,
  json: boolean,
): Promise<void> {
  const cache: StatusCache = new Map();
  const printed = new Map<number, number>();
  for (let round = 0; ; round++) {
    // The lease changes while we follow: re-read the job's facts now and then (cheap: two small GETs).
    if (round > 0 && round % 5 === 0) job = await readJobInfo(o.storage, o.bucket, job.executorId, job.jobId);
    const statuses = (await readJobStatuses(o.storage, o.bucket, job.jobKey, cache)).map(redactRecord);
    for (const s of statuses) {
      if (callId !== undefined && s.callId !== callId) continue;
      if ((printed.get(s.callId) ?? 0) >= s.attempt) continue;
      printed.set(s.callId, s.attempt);
      if (json) process.stdout.write(`${JSON.stringify(asJson(s))}\n`);
      else print(s, true);
    }
    const counts = countCalls(job, statuses);
    const done = callId !== undefined ? printed.has(callId) : job.manifest !== undefined && counts.pending === 0;
    if (done) {
      if (!json)
        process.stderr.write(
          `(all ${callId === undefined ? `${counts.calls} calls` : `of call ${callId}`} finished: ${counts.success} succeeded, ${counts.error} failed)\n`,
        );
      return;
    }
    // Nothing will land for a job whose client is gone: say so and stop instead of waiting forever.
    if (
      jobState(job, counts) === 'abandoned' &&
      jobState((job = await readJobInfo(o.storage, o.bucket, job.executorId, job.jobId)), counts) === 'abandoned'
    ) {
      process.stderr.write(`(${abandonedReason(job, counts)})\n`);
      process.exitCode = 3;
      return;
    }
    await sleep(interval);
  }
}

/** Prints one call: a header line, its output, and its error when it failed. */
function print(s: StoredCallStatus, always: boolean): void {
  if (!always && !s.logs && s.ok) return;
  const where = s.stats.hostname ? ` · ${s.stats.hostname} pid ${s.stats.pid ?? '?'}` : '';
  const state = s.ok ? 'succeeded' : 'failed';
  out(`── call ${s.callId} · ${state} · attempt ${s.attempt}${where} ──`);
  // What the platform itself printed (start-up, a crash of the whole invocation) is only in its logs.
  if (s.stats.location) out(`(logs: ${s.stats.location.text})`);
  if (s.logs) process.stdout.write(s.logs.endsWith('\n') ? s.logs : `${s.logs}\n`);
  else out('(no output)');
  if (s.error) out(`!! ${s.error.name}: ${s.error.message}`);
}

function asJson(s: StoredCallStatus): Record<string, unknown> {
  return {
    callId: s.callId,
    ok: s.ok,
    attempt: s.attempt,
    hostname: s.stats.hostname ?? null,
    pid: s.stats.pid ?? null,
    cloudWatch: parseLambdaLocation(s.stats.location) ?? null,
    logs: s.logs ?? '',
    error: s.error
      ? { name: s.error.name, message: s.error.message, ...(s.error.stack ? { stack: s.error.stack } : {}) }
      : null,
  };
}
