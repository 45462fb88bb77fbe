/**
 * `burst worker job`: the entry of one pod of a Kubernetes Indexed Job (the `k8s` backend). The pod
 * learns which chunk of calls is its own from `JOB_COMPLETION_INDEX`, which the Job controller sets on
 * every pod of an Indexed Job; everything else comes from the environment the backend wrote into the
 * Job's pod template, and the job itself from storage, as `burst worker run` reads it on a Slurm node.
 *
 * Environment: `BURST_JOB_KEY`, `BURST_BUCKET`, `BURST_CALLS` (the map's call list, e.g. `0-99`),
 * `BURST_CHUNKSIZE`, `BURST_ATTEMPT`, `BURST_WORKERS`, `BURST_STORAGE_CONFIG`, optionally
 * `BURST_SIGNING_KEY`, and `POD_NAME`/`POD_NAMESPACE` (the downward API) for the logs' location.
 *
 * Exit codes, which the pod's status keeps and `kubectl get pods` shows: 0 every call of the chunk has
 * a status (a call that threw is a failed call, not a failed pod); 1 the calls could not be run (job
 * unreadable, storage down); 2 the pod's description is wrong (a bug or a hand-edited Job); 143 stopped
 * by SIGTERM (the Job was deleted, the node drained): running calls were aborted and got `cancelled`
 * statuses within the pod's grace period.
 */
import { CancelledError, ConfigError } from '../../errors.js';
import type { StorageConfig } from '../../storage/types.js';
import { parseCallSpec } from '../call-spec.js';
import type { CallLocation } from '../protocol.js';
import { parseStorageConfig } from '../storage-config.js';

/** What one pod runs, read from its environment. */
export interface IndexedJobTask {
  bucket: string;
  jobKey: string;
  callIds: number[];
  attempt: number;
  workers: number;
  storage: StorageConfig;
  location: CallLocation;
}

/** Exit codes of the entry (see the file's header). */
export const JOB_EXIT = { ok: 0, failed: 1, badTask: 2, terminated: 143 } as const;

/** Reads the pod's task from `env`; a {@link ConfigError} names the variable at fault. */
export function readIndexedJobTask(env: NodeJS.ProcessEnv): IndexedJobTask {
  const need = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '')
      throw new ConfigError(`${name} is not set: this entry runs in a pod of a Job made by the k8s backend`, {
        keyPath: name,
      });
    return v;
  };
  const int = (name: string, min: number, fallback?: string): number => {
    const text = env[name] ?? fallback;
    const n = Number(text);
    if (text === undefined || !Number.isInteger(n) || n < min)
      throw new ConfigError(`${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`, {
        keyPath: name,
      });
    return n;
  };
  const index = int('JOB_COMPLETION_INDEX', 0);
  const chunk = int('BURST_CHUNKSIZE', 1, '1');
  const calls = need('BURST_CALLS');
  const all = parseCallSpec(calls);
  const callIds = all.slice(index * chunk, (index + 1) * chunk);
  if (callIds.length === 0)
    throw new ConfigError(`JOB_COMPLETION_INDEX ${index} selects no calls of ${calls} in chunks of ${chunk}`, {
      keyPath: 'JOB_COMPLETION_INDEX',
    });
  const pod = env.POD_NAME ?? env.HOSTNAME ?? 'pod';
  const namespace = env.POD_NAMESPACE ?? 'default';
  return {
    bucket: env.BURST_BUCKET ?? 'burst',
    jobKey: need('BURST_JOB_KEY'),
    callIds,
    attempt: int('BURST_ATTEMPT', 1, '1'),
    workers: int('BURST_WORKERS', 1, '1'),
    storage: parseStorageConfig(need('BURST_STORAGE_CONFIG'), 'BURST_STORAGE_CONFIG'),
    location: { platform: 'k8s', namespace, pod, text: `kubectl logs -n ${namespace} ${pod}` },
  };
}

/**
 * Runs the pod's calls; resolves with the exit code. SIGTERM aborts the running calls (they get
 * `cancelled` statuses, so the client learns at once rather than by the pod's status).
 */
export async function runIndexedJob(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`),
): Promise<number> {
  let task: IndexedJobTask;
  try {
    task = readIndexedJobTask(env);
  } catch (err) {
    log(`burst worker job: ${(err as Error).message}`);
    return JOB_EXIT.badTask;
  }
  const controller = new AbortController();
  const onTerm = (): void => {
    log(`burst worker job: SIGTERM: cancelling calls ${task.callIds[0]}..${task.callIds.at(-1)} of ${task.jobKey}`);
    controller.abort(new CancelledError('cancelled: the pod was stopped (SIGTERM)'));
  };
  process.on('SIGTERM', onTerm);
  const [{ openStorageConfig }, { runCalls }] = await Promise.all([
    import('../../storage/index.js'),
    import('../handler.js'),
  ]);
  try {
    const storage = await openStorageConfig(task.storage);
    try {
      const r = await runCalls({
        storage,
        bucket: task.bucket,
        jobKey: task.jobKey,
        callIds: task.callIds,
        attempt: task.attempt,
        workers: task.workers,
        location: task.location,
        signal: controller.signal,
        ...(env.BURST_RUNTIME_DIR ? { runtimeDir: env.BURST_RUNTIME_DIR } : {}),
      });
      log(
        `burst worker job: ${r.succeeded} succeeded, ${r.failed} failed${r.cancelled ? `, ${r.cancelled} cancelled` : ''} (${task.jobKey})`,
      );
      return controller.signal.aborted ? JOB_EXIT.terminated : JOB_EXIT.ok;
    } finally {
      await storage.close?.();
    }
  } catch (err) {
    log(`burst worker job: the calls could not be run: ${(err as Error).message}`);
    return controller.signal.aborted ? JOB_EXIT.terminated : JOB_EXIT.failed;
  } finally {
    process.off('SIGTERM', onTerm);
  }
}
