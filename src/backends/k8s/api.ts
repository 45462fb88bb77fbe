/**
 * The part of the Kubernetes API the k8s backend uses (Jobs and their pods), through the official
 * `@kubernetes/client-node` (1.x, object-parameter style), imported only when the backend is created.
 */
import { BurstError } from '../../errors.js';
import { importOptional } from '../../runtime/optional-package.js';

/** A pod as far as Burst reads it. */
export interface K8sPod {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: {
      state?: {
        waiting?: { reason?: string; message?: string };
        terminated?: { reason?: string; exitCode?: number; signal?: number; message?: string };
      };
    }[];
  };
}

/** A Job as far as Burst reads it. */
export interface K8sJob {
  metadata?: {
    name?: string;
    creationTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    completionTime?: string | Date;
    conditions?: { type?: string; status?: string; reason?: string }[];
  };
}

/** Jobs and pods of one namespace. */
export interface K8sApi {
  createJob(namespace: string, body: object): Promise<void>;
  listJobs(namespace: string, labelSelector: string): Promise<K8sJob[]>;
  /** Deletes a Job and (in the background) its pods; a Job already gone is no error. */
  deleteJob(namespace: string, name: string): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<K8sPod[]>;
}

/** Where the client finds the cluster. */
export interface K8sConnection {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** The real client for `c`'s kubeconfig and context. */
export async function kubernetesApi(c: K8sConnection): Promise<K8sApi> {
  const k8s = await importOptional(
    '@kubernetes/client-node',
    () => import('@kubernetes/client-node'),
    'the k8s backend',
  );
  const kc = new k8s.KubeConfig();
  if (c.kubeconfig) kc.loadFromFile(c.kubeconfig);
  else kc.loadFromDefault();
  if (c.context) kc.setCurrentContext(c.context);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    async createJob(namespace, body) {
      await kube(`creating Job in ${namespace}`, () => batch.createNamespacedJob({ namespace, body }));
    },
    async listJobs(namespace, labelSelector) {
      const out = await kube(`listing Jobs in ${namespace}`, () =>
        batch.listNamespacedJob({ namespace, labelSelector }),
      );
      return out.items as K8sJob[];
    },
    async deleteJob(namespace, name) {
      try {
        await batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw kubeError(err, `deleting Job ${namespace}/${name}`);
      }
    },
    async listPods(namespace, labelSelector) {
      const out = await kube(`listing pods in ${namespace}`, () =>
        core.listNamespacedPod({ namespace, labelSelector }),
      );
      return out.items as K8sPod[];
    },
  };
}

/** Runs a Kubernetes API call; its failure becomes a BurstError saying what was being done. */
export async function kube<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kubeError(err, what);
  }
}

/** A failed API call as a `SUBMIT_REJECTED` BurstError with the server's answer. */
export function kubeError(err: unknown, what: string): BurstError {
  const e = err as { code?: number; body?: unknown; message?: string };
  const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '');
  return new BurstError(
    'SUBMIT_REJECTED',
    `${what} failed${e.code ? ` (HTTP ${e.code})` : ''}: ${(e.message ?? '').split('\n')[0]} ${body.slice(0, 300)}`.trim(),
    { backend: 'k8s', cause: err },
  );
}
