/**
 * `burst runtime … --backend k8s`: the worker image, and the Jobs Burst left in the cluster. A Job
 * needs nothing deployed beside its image, so `deploy` builds and pushes the image; `list` shows the
 * Jobs Burst created (label `burst.dev/managed=true`) and `delete` (also `burst clean --runtimes`)
 * deletes the finished ones, or one by name, before their `ttlSecondsAfterFinished` does.
 */
import { ConfigError } from '../../errors.js';
import { buildAndPush, buildRuntimeImage, defaultImage, type ImageTools } from '../../runtime/image-build.js';
import type { RuntimeCommandOptions, RuntimeInfo, RuntimeManager } from '../../runtime/types.js';
import { kubernetesApi, type K8sApi, type K8sJob } from './api.js';
import { JOB_KEY_ANNOTATION, MANAGED_LABEL } from './manifest.js';
import type { K8sOptions } from './options.js';

/** What the manager needs from outside; tests replace both. */
export interface K8sRuntimeDeps extends ImageTools {
  api?: (o: K8sOptions) => Promise<K8sApi>;
}

const SELECTOR = `${MANAGED_LABEL}=true`;

/** Creates the k8s runtime manager. */
export function k8sRuntimeManager(deps: K8sRuntimeDeps = {}): RuntimeManager {
  const api = deps.api ?? kubernetesApi;
  const section = (o: RuntimeCommandOptions): K8sOptions => o.backendOptions as K8sOptions;
  const ns = (k: K8sOptions): string => k.namespace ?? 'default';
  return {
    build: (o) => buildRuntimeImage(section(o), o, deps),

    async deploy(o) {
      const k = section(o);
      if (k.push !== false && !k.image)
        throw new ConfigError(
          'k8s.image must name an image in a registry the cluster pulls from (e.g. "ghcr.io/me/burst-worker:0.1.0"), or set k8s.push to false',
          { keyPath: 'k8s.image', backend: 'k8s' },
        );
      const image = await buildAndPush(k.image ?? defaultImage(), k, o, deps);
      o.log(`the k8s backend runs ${image} as Jobs: set k8s.image to it`);
      return { name: image, backend: 'k8s', location: image, details: { namespace: ns(k) } };
    },

    async list(o) {
      const k = section(o);
      const jobs = await (await api(k)).listJobs(ns(k), SELECTOR);
      return jobs.map((j) => info(j, ns(k)));
    },

    async delete(o) {
      const k = section(o);
      const client = await api(k);
      const jobs = await client.listJobs(ns(k), SELECTOR);
      const names = o.name
        ? jobs.filter((j) => j.metadata?.name === o.name).map(() => o.name as string)
        : jobs.filter(finished).map((j) => j.metadata?.name ?? '');
      for (const name of names.filter(Boolean)) {
        o.log(`deleting Job ${ns(k)}/${name}`);
        await client.deleteJob(ns(k), name);
      }
      return names.filter(Boolean);
    },
  };
}

/** Whether a Job has finished (Complete or Failed). */
export function finished(j: K8sJob): boolean {
  return (j.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

function info(j: K8sJob, namespace: string): RuntimeInfo {
  const s = j.status ?? {};
  const state = finished(j) ? (s.failed ? 'failed' : 'complete') : 'running';
  const version = j.metadata?.labels?.['burst.dev/version'];
  return {
    name: j.metadata?.name ?? '?',
    backend: 'k8s',
    ...(version ? { burstVersion: version } : {}),
    location: `kubectl get job -n ${namespace} ${j.metadata?.name ?? ''}`,
    details: {
      state,
      pods: `${s.active ?? 0} active, ${s.succeeded ?? 0} succeeded, ${s.failed ?? 0} failed`,
      ...(j.metadata?.annotations?.[JOB_KEY_ANNOTATION] ? { job: j.metadata.annotations[JOB_KEY_ANNOTATION] } : {}),
    },
  };
}

/** The manager `burst runtime … --backend k8s` uses. */
export const k8sRuntimes: RuntimeManager = k8sRuntimeManager();
