/** Options of the `k8s` backend (`new FunctionExecutor({ backend: 'k8s', k8s: {...} })`) and their schema. */
import type { ZodNamespace } from '../definition.js';
import { parts } from '../schema-parts.js';
import type { ImageOptions } from '../../runtime/image-build.js';

/** A pod toleration, as in the Kubernetes Pod spec. */
export interface K8sToleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** Options of the `k8s` section. */
export interface K8sOptions extends ImageOptions {
  /** Namespace of the Jobs. @default 'default' */
  namespace?: string;
  /** Path of a kubeconfig file. @default $KUBECONFIG or ~/.kube/config (or the in-cluster account) */
  kubeconfig?: string;
  /** kubeconfig context to use. @default its current context */
  context?: string;
  /** Service account of the pods. @default the namespace's default */
  serviceAccount?: string;
  /** CPUs per pod (request and limit); also the worker processes a pod runs its chunk in (rounded up). @default 1 */
  cpu?: number;
  /** Memory per pod in MiB when the map sets no `runtimeMemory` (which otherwise decides it). @default 1024 */
  memoryMB?: number;
  /** Pods of one map running at once (the Job's `parallelism`). @default every chunk at once */
  parallelism?: number;
  /** Seconds a finished Job is kept before Kubernetes deletes it (`ttlSecondsAfterFinished`). @default 600 */
  ttlSecondsAfterFinished?: number;
  /** Labels a node must have to run the pods. @default {} */
  nodeSelector?: Record<string, string>;
  /** Names of secrets to pull the image with. @default [] */
  imagePullSecrets?: string[];
  /** Tolerations of the pods (e.g. for a tainted node pool). @default [] */
  tolerations?: K8sToleration[];
  /** When to pull the image. @default the cluster's default for the tag */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Environment variables of the workers. @default {} */
  env?: Record<string, string>;
  /** A Secret whose key `storage-config` holds the workers' storage configuration; without it the client's (credentials included) goes into the Job's spec. @default none */
  storageSecret?: string;
  /** A Secret whose key `signing-key` holds the job signing key: the pods then run only signed jobs. @default none */
  signingKeySecret?: string;
  /** Path of Burst's CLI inside the image. @default where `burst runtime build` installs it */
  burstPath?: string;
  /** Push the image in `burst runtime deploy`. @default true */
  push?: boolean;
  /** Build the image in `burst runtime deploy`. @default true */
  build?: boolean;
}

/** The schema of {@link K8sOptions}. */
export function k8sSchema(z: ZodNamespace) {
  const p = parts(z);
  const toleration = z
    .object(
      {
        key: p.str(),
        operator: p.oneOf(['Exists', 'Equal']),
        value: z.string({ error: 'a string' }).optional(),
        effect: p.oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
        tolerationSeconds: p.nonNegInt(),
      },
      { error: 'a toleration object ({ key, operator, value, effect })' },
    )
    .strict();
  return z.object({
    image: p.str(),
    builder: p.oneOf(['docker', 'podman']),
    buildArgs: p.strings(),
    baseImage: p.str(),
    namespace: z
      .string({ error: 'a Kubernetes namespace name' })
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'a Kubernetes namespace name' })
      .optional(),
    kubeconfig: p.str(),
    context: p.str(),
    serviceAccount: p.str(),
    cpu: z.number({ error: 'a positive number of CPUs' }).positive({ error: 'a positive number of CPUs' }).optional(),
    memoryMB: p.posInt(),
    parallelism: p.posInt(),
    ttlSecondsAfterFinished: p.nonNegInt(),
    nodeSelector: p.stringMap(),
    imagePullSecrets: p.nonEmptyStrings(),
    tolerations: z.array(toleration, { error: 'an array of toleration objects' }).optional(),
    imagePullPolicy: p.oneOf(['Always', 'IfNotPresent', 'Never']),
    env: p.stringMap(),
    storageSecret: p.str(),
    signingKeySecret: p.str(),
    burstPath: p.str(),
    push: p.bool(),
    build: p.bool(),
  });
}
