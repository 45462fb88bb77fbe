/**
 * The Slurm backend: one `map` is one Slurm array job. Each array task runs `burst worker run` for its
 * chunk of calls, reading the job from storage and writing results back, so the client never needs a
 * network path to the nodes. Calls whose task ended without a status (node failure, killed for time
 * or memory) are reported with Slurm's own state and reason.
 *
 * What it leaves out: job arrays larger than the cluster's MaxArraySize are split into several
 * submissions; heterogeneous jobs and job steps are not used.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BurstError, ConfigError } from '../../errors.js';
import type { BackendContext, ComputeBackend, JobDescriptor, LostCallInfo } from '../types.js';
import { chunkCalls, formatCallSpec } from '../../worker/call-spec.js';
import { onPath } from '../on-path.js';
import { runCommand } from './command.js';
import type { SlurmOptions } from './options.js';

interface Submission {
  slurmJobId: string;
  /** The job name we gave it: a restarted controller may reuse the id for another job. */
  name: string;
  /** Calls of each array task, by task index. */
  tasks: number[][];
}

/** Where a call's latest attempt runs: a submission and its array task. */
interface Placement {
  sub: Submission;
  task: number;
}

/** Creates the Slurm backend (options already checked against its schema). */
export function slurm(options: SlurmOptions, context: BackendContext): ComputeBackend {
  return new SlurmBackend(options, context);
}

function defaultBurstPath(): string {
  const dist = fileURLToPath(
    new URL(import.meta.url.endsWith('.ts') ? '../../../dist/cli/main.js' : '../../cli/main.js', import.meta.url),
  );
  return dist;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

class SlurmBackend implements ComputeBackend {
  readonly name = 'slurm';
  private readonly submissions = new Map<string, Submission[]>();
  /** The latest placement of each call, by `<jobKey>/<callId>`: a retry replaces the earlier one. */
  private readonly placements = new Map<string, Placement>();
  /** Where each attempt of each call runs, by `<jobKey>/<callId>.<attempt>`: to cancel one copy. */
  private readonly byAttempt = new Map<string, Placement>();
  private readonly burstPath: string;

  constructor(
    private readonly o: SlurmOptions,
    context: BackendContext,
  ) {
    if (!onPath('sbatch')) {
      throw new ConfigError(
        "the slurm backend needs the sbatch command, and it is not on PATH: run on a Slurm login node or add Slurm's bin folder to PATH",
        { backend: 'slurm', keyPath: 'backend' },
      );
    }
    if (!context.storageIsRemote) {
      throw new ConfigError(
        `the ${context.storage.driver} storage is not reachable from Slurm nodes: use "s3", or "fs" with { shared: true } on a filesystem every node mounts at the same path`,
        { backend: 'slurm', keyPath: 'storage' },
      );
    }
    this.burstPath = o.burstPath ?? defaultBurstPath();
  }

  async invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    // A retry: forget where the last attempt ran before sbatch returns, or a lost-call check in
    // between would see the old (ended) task and report the new attempt lost.
    for (const id of callIds) this.placements.delete(`${job.jobKey}/${id}`);
    const chunk = job.chunksize;
    const tasks = chunkCalls(callIds, chunk);
    const workers = this.o.cpusPerTask ?? 1;
    const spec = formatCallSpec(callIds);
    const command = [
      this.o.nodePath ?? process.execPath,
      this.burstPath,
      'worker',
      'run',
      '--bucket',
      job.bucket,
      '--job',
      job.jobKey,
      '--calls',
      spec,
      '--attempt',
      String(attempt),
      '--task-index',
      '$SLURM_ARRAY_TASK_ID',
      '--chunksize',
      String(chunk),
      '--workers',
      String(workers),
    ];
    const script = `#!/bin/sh\nexport BURST_HOSTNAME="\${SLURMD_NODENAME:-$(hostname)}"\nexec ${command.map((a) => (a.startsWith('$') ? `"${a}"` : shellQuote(a))).join(' ')}\n`;
    const args = [
      '--parsable',
      `--array=0-${tasks.length - 1}${this.o.maxConcurrency ? `%${this.o.maxConcurrency}` : ''}`,
      `--job-name=burst-${job.executorId}-${job.jobId}`,
      `--cpus-per-task=${workers}`,
      `--output=${this.o.output ?? '/dev/null'}`,
      `--chdir=${this.o.workDir ?? process.cwd()}`,
    ];
    args.push(`--time=${Math.max(1, Math.ceil((job.timeoutSeconds * chunk) / 60) + 1)}`);
    if (job.runtimeMemoryMB) args.push(`--mem=${job.runtimeMemoryMB * workers + 256}M`);
    if (this.o.partition) args.push(`--partition=${this.o.partition}`);
    if (this.o.account) args.push(`--account=${this.o.account}`);
    if (this.o.qos) args.push(`--qos=${this.o.qos}`);
    args.push(...(this.o.sbatchArgs ?? []));
    // The heap of the task's workers follows --mem (an out-of-memory retry asks for more of both).
    const env = {
      ...process.env,
      ...this.o.env,
      BURST_STORAGE_CONFIG: JSON.stringify(job.storage),
      ...(job.runtimeMemoryMB ? { BURST_RUNTIME_MEMORY_MB: String(job.runtimeMemoryMB) } : {}),
    };
    let out: { stdout: string };
    try {
      out = await runCommand('sbatch', args, script, env);
    } catch (err) {
      throw new BurstError('SUBMIT_REJECTED', `Slurm rejected job ${job.jobId}: ${(err as Error).message}`, {
        backend: 'slurm',
        jobId: job.jobId,
        cause: err,
      });
    }
    const slurmJobId = out.stdout.trim().split(';')[0] as string;
    const sub: Submission = { slurmJobId, name: `burst-${job.executorId}-${job.jobId}`, tasks };
    const list = this.submissions.get(job.jobKey) ?? [];
    list.push(sub);
    this.submissions.set(job.jobKey, list);
    tasks.forEach((calls, task) => {
      for (const id of calls) this.placements.set(`${job.jobKey}/${id}`, { sub, task });
      for (const id of calls) this.byAttempt.set(`${job.jobKey}/${id}.${attempt}`, { sub, task });
    });
  }

  async lostCalls(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>> {
    const lost = new Map<number, LostCallInfo>();
    const states = new Map<string, Promise<Map<number, LostCallInfo>>>();
    for (const id of callIds) {
      const placed = this.placements.get(`${job.jobKey}/${id}`);
      if (!placed) continue;
      let pending = states.get(placed.sub.slurmJobId);
      if (!pending) states.set(placed.sub.slurmJobId, (pending = taskStates(placed.sub.slurmJobId, placed.sub.name)));
      const state = (await pending).get(placed.task);
      if (state && ENDED.has(state.state)) lost.set(id, state);
    }
    return lost;
  }

  /** Cancels the array tasks that run only these calls as `attempt` (a backup race's loser). */
  async cancelCalls(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    const ids = new Set(callIds);
    const tasks = new Set<string>();
    for (const id of callIds) {
      const placed = this.byAttempt.get(`${job.jobKey}/${id}.${attempt}`);
      if (placed && (placed.sub.tasks[placed.task] ?? []).every((c) => ids.has(c)))
        tasks.add(`${placed.sub.slurmJobId}_${placed.task}`);
    }
    if (tasks.size) await runCommand('scancel', [...tasks]).catch(() => undefined);
  }

  async cancel(job: JobDescriptor): Promise<void> {
    const ids = (this.submissions.get(job.jobKey) ?? []).map((s) => s.slurmJobId);
    if (ids.length) await runCommand('scancel', ids).catch(() => undefined);
  }

  async close(): Promise<void> {
    const ids = [...this.submissions.values()].flat().map((s) => s.slurmJobId);
    this.submissions.clear();
    this.placements.clear();
    this.byAttempt.clear();
    if (ids.length) await runCommand('scancel', ids).catch(() => undefined);
  }
}

/** Slurm states in which a task will never write anything more. */
const ENDED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'BOOT_FAIL',
  'DEADLINE',
  'PREEMPTED',
]);

/** The state, reason and exit code of each task of an array job, from `scontrol show job`. */
async function taskStates(slurmJobId: string, name: string): Promise<Map<number, LostCallInfo>> {
  const out = new Map<number, LostCallInfo>();
  const text = await new Promise<string>((resolve) => {
    execFile('scontrol', ['-o', 'show', 'job', slurmJobId], (err, stdout) => resolve(err ? '' : stdout));
  });
  for (const line of text.split('\n')) {
    const field = (name: string): string | undefined => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(line)?.[1];
    const range = field('ArrayTaskId');
    const state = field('JobState');
    if (range === undefined || state === undefined || field('JobName') !== name) continue;
    const [exit, signal] = (field('ExitCode') ?? '0:0').split(':');
    const reason = field('Reason');
    const info: LostCallInfo = {
      state,
      exitCode: Number(exit),
      signal: signal && signal !== '0' ? `signal ${signal}` : null,
      ...(reason && reason !== 'None' ? { reason } : {}),
    };
    // A line may stand for a range of pending tasks, e.g. "4-9%2".
    const m = /^(\d+)(?:-(\d+))?/.exec(range);
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.set(i, info);
  }
  return out;
}
