/**
 * The k8s backend: one map (and each retry) is one Kubernetes Indexed Job of Burst's worker image
 * (`burst runtime build`); pod `i` runs chunk `i` of the call list (`burst worker job`, reading
 * `JOB_COMPLETION_INDEX`). Calls whose pod ended without writing a status are reported with the pod's
 * own reason (OOMKilled, Evicted, DeadlineExceeded, ImagePullBackOff, …). Works on OpenShift as it is.
 *
 * What it leaves out: Jobs larger than the cluster's limits are not split; pod logs are not copied
 * anywhere (a call's stats carry `kubectl logs -n <ns> <pod>`); Kueue and other queueing admission.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import { chunkCalls, formatCallSpec } from '../../worker/call-spec.js';
import type { BackendContext, ComputeBackend, JobDescriptor, LostCallInfo } from '../types.js';
import { kubernetesApi, type K8sApi, type K8sPod } from './api.js';
import { jobManifest, jobName, MANAGED_LABEL } from './manifest.js';
import type { K8sOptions } from './options.js';

/** One Job Burst created: its name and the calls of each index. */
interface Submission {
  name: string;
  chunks: number[][];
  done: boolean;
}

/** Pod reasons under which a pod that has not started never will (without someone fixing something). */
const STUCK_WAITING = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** Creates the k8s backend; `api` replaces the Kubernetes client (tests use the real one against a fake server). */
export async function k8s(options: K8sOptions, context: BackendContext, api?: K8sApi): Promise<ComputeBackend> {
  if (!options.image)
    throw new ConfigError(
      'k8s.image must name the worker image (built by "burst runtime build --backend k8s"), e.g. "ghcr.io/me/burst-worker:0.1.0"',
      { keyPath: 'k8s.image', backend: 'k8s' },
    );
  if (!context.storageIsRemote)
    throw new ConfigError(
      `the ${context.storage.driver} storage is not reachable from pods: use "s3" (or "fs" with { shared: true } on a volume every pod mounts at the same path)`,
      { keyPath: 'storage', backend: 'k8s' },
    );
  return new K8sBackend(options, api ?? (await kubernetesApi(options)));
}

class K8sBackend implements ComputeBackend {
  readonly name = 'k8s';
  private readonly submissions = new Map<string, Submission[]>();
  /** The latest Job and index of each call, by `<jobKey>/<callId>`: a retry replaces the earlier one. */
  private readonly placements = new Map<string, { sub: Submission; index: number }>();
  private readonly namespace: string;
  readonly counters = { jobsCreated: 0, jobsDeleted: 0 };

  constructor(
    private readonly o: K8sOptions,
    private readonly api: K8sApi,
  ) {
    this.namespace = o.namespace ?? 'default';
  }

  async invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    for (const id of callIds) this.placements.delete(`${job.jobKey}/${id}`);
    const chunks = chunkCalls(callIds, job.chunksize);
    const name = jobName(job, attempt, randomBytes(3).toString('hex'));
    const body = jobManifest(this.o, {
      name,
      job,
      calls: formatCallSpec(callIds),
      chunks: chunks.length,
      attempt,
      image: this.o.image as string,
    });
    await this.api.createJob(this.namespace, body);
    this.counters.jobsCreated++;
    const sub: Submission = { name, chunks, done: false };
    const list = this.submissions.get(job.jobKey) ?? [];
    list.push(sub);
    this.submissions.set(job.jobKey, list);
    chunks.forEach((calls, index) => {
      for (const id of calls) this.placements.set(`${job.jobKey}/${id}`, { sub, index });
    });
  }

  async lostCalls(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>> {
    const lost = new Map<number, LostCallInfo>();
    const ended = new Map<string, Promise<Map<number, LostCallInfo>>>();
    for (const id of callIds) {
      const placed = this.placements.get(`${job.jobKey}/${id}`);
      if (!placed) continue;
      let pending = ended.get(placed.sub.name);
      if (!pending) ended.set(placed.sub.name, (pending = this.endedPods(placed.sub.name)));
      const info = (await pending).get(placed.index);
      if (info) lost.set(id, info);
    }
    return lost;
  }

  /** Indexes of a Job whose pod has ended (or cannot start), with the pod's state and reason. */
  private async endedPods(name: string): Promise<Map<number, LostCallInfo>> {
    const out = new Map<number, LostCallInfo>();
    let pods: K8sPod[];
    try {
      pods = await this.api.listPods(this.namespace, `job-name=${name}`);
    } catch {
      return out; // the API server did not answer: ask again at the next check
    }
    for (const pod of pods) {
      const index = Number(pod.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']);
      if (!Number.isInteger(index)) continue;
      const info = podEnd(pod);
      if (info) out.set(index, info);
    }
    return out;
  }

  async cancel(job: JobDescriptor): Promise<void> {
    const subs = this.submissions.get(job.jobKey) ?? [];
    this.submissions.delete(job.jobKey);
    await Promise.all(subs.map((s) => this.remove(s)));
  }

  async close(): Promise<void> {
    const subs = [...this.submissions.values()].flat();
    this.submissions.clear();
    this.placements.clear();
    await Promise.all(subs.map((s) => this.remove(s)));
  }

  /** Deletes a Job (its pods get SIGTERM, so their calls are cancelled with a status). */
  private async remove(s: Submission): Promise<void> {
    if (s.done) return;
    s.done = true;
    await this.api.deleteJob(this.namespace, s.name).catch(() => undefined);
    this.counters.jobsDeleted++;
  }
}

/** How a pod ended, or undefined while it runs (or may still start). */
export function podEnd(pod: K8sPod): LostCallInfo | undefined {
  const status = pod.status ?? {};
  const container = status.containerStatuses?.[0]?.state;
  const term = container?.terminated;
  if (status.reason === 'Evicted' || status.reason === 'DeadlineExceeded')
    return { state: status.reason, reason: `pod ${pod.metadata?.name}: ${status.message ?? status.reason}` };
  if (term && (status.phase === 'Failed' || status.phase === 'Succeeded' || term.reason))
    return {
      state: term.reason ?? status.phase ?? 'Terminated',
      reason: `pod ${pod.metadata?.name} ${term.reason ?? 'ended'}${term.message ? `: ${term.message}` : ''} (exit code ${term.exitCode})`,
      exitCode: term.exitCode ?? null,
      signal: term.signal ? `signal ${term.signal}` : null,
    };
  const waiting = container?.waiting;
  if (waiting?.reason && STUCK_WAITING.has(waiting.reason))
    return {
      state: waiting.reason,
      reason: `pod ${pod.metadata?.name} cannot start: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
    };
  if (status.phase === 'Failed')
    return { state: status.reason ?? 'Failed', reason: `pod ${pod.metadata?.name}: ${status.message ?? 'failed'}` };
  return undefined;
}

/** The label selector of every Job Burst created. */
export const MANAGED_SELECTOR = `${MANAGED_LABEL}=true`;
