/**
 * The Indexed Job of one map (or of one retry): `completions` chunks, pod `i` runs chunk `i` of the
 * call list (`JOB_COMPLETION_INDEX`), `backoffLimitPerIndex: 0` because Burst retries calls itself (a pod
 * retried by Kubernetes would rerun calls that already have a status; per index, Kubernetes ≥ 1.29), and `ttlSecondsAfterFinished`
 * so finished Jobs go away on their own. The pods run as a non-root user without privileges, which
 * OpenShift's restricted SCC also asks for (it picks the UID; the image works under any UID).
 */
import { createRequire } from 'node:module';
import { VERSION } from '../../version.js';
import type { JobDescriptor } from '../types.js';
import type { K8sOptions } from './options.js';

export const MANAGED_LABEL = 'burst.dev/managed';
export const JOB_KEY_ANNOTATION = 'burst.dev/job-key';

/** Burst's npm name: where the image's `npm install` of the packed tarball puts it. */
const PACKAGE_NAME = (createRequire(import.meta.url)('../../../package.json') as { name: string }).name;

/** Where `burst runtime build` installs Burst's CLI in the image (see runtime/dockerfile.ts). */
export const IMAGE_BURST_PATH = `/opt/burst/node_modules/${PACKAGE_NAME}/dist/cli/main.js`;

/** A Kubernetes object name for the Job of `job`'s attempt: a DNS label of at most 63 characters. */
export function jobName(job: JobDescriptor, attempt: number, nonce: string): string {
  const clean = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const tail = `-${clean(job.jobId)}-a${attempt}-${nonce}`;
  const head = `burst-${clean(job.executorId)}`.slice(0, 63 - tail.length);
  return `${head}${tail}`.replace(/-+/g, '-');
}

/** What the manifest needs besides the options. */
export interface JobSpecInput {
  name: string;
  job: JobDescriptor;
  /** The map's call list (`0-99`), which pods split by their index. */
  calls: string;
  chunks: number;
  attempt: number;
  image: string;
}

/** The Job object (batch/v1) for `input`. */
export function jobManifest(o: K8sOptions, input: JobSpecInput) {
  const { job } = input;
  const cpu = o.cpu ?? 1;
  const workers = Math.max(1, Math.ceil(cpu));
  // Each worker process may take the call's memory; the pod adds room for its own node process.
  const memory = `${job.runtimeMemoryMB ? job.runtimeMemoryMB * workers + 256 : (o.memoryMB ?? 1024)}Mi`;
  const labels = { [MANAGED_LABEL]: 'true', 'burst.dev/version': VERSION };
  const value = (name: string, v: string) => ({ name, value: v });
  const fromSecret = (name: string, secret: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key } },
  });
  const env = [
    ...Object.entries(o.env ?? {}).map(([n, v]) => value(n, v)),
    ...Object.entries(job.env).map(([n, v]) => value(n, v)),
    value('BURST_JOB_KEY', job.jobKey),
    value('BURST_BUCKET', job.bucket),
    value('BURST_CALLS', input.calls),
    value('BURST_CHUNKSIZE', String(job.chunksize)),
    value('BURST_ATTEMPT', String(input.attempt)),
    value('BURST_WORKERS', String(workers)),
    ...(job.runtimeMemoryMB ? [value('BURST_RUNTIME_MEMORY_MB', String(job.runtimeMemoryMB))] : []),
    o.storageSecret
      ? fromSecret('BURST_STORAGE_CONFIG', o.storageSecret, 'storage-config')
      : value('BURST_STORAGE_CONFIG', JSON.stringify(job.storage)),
    ...(o.signingKeySecret ? [fromSecret('BURST_SIGNING_KEY', o.signingKeySecret, 'signing-key')] : []),
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'BURST_HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: input.name,
      namespace: o.namespace ?? 'default',
      labels,
      annotations: { [JOB_KEY_ANNOTATION]: job.jobKey },
    },
    spec: {
      completionMode: 'Indexed',
      completions: input.chunks,
      parallelism: Math.min(input.chunks, o.parallelism ?? input.chunks),
      // No retries by Kubernetes (Burst retries calls itself), per index: a plain backoffLimit of 0
      // would fail the whole Job at the first OOMKilled pod and terminate every other chunk's pod.
      backoffLimitPerIndex: 0,
      maxFailedIndexes: input.chunks,
      ttlSecondsAfterFinished: o.ttlSecondsAfterFinished ?? 600,
      // Every chunk's calls one after the other, plus a minute to start: then Kubernetes stops the pods.
      activeDeadlineSeconds:
        Math.ceil(job.timeoutSeconds * job.chunksize) + 60 * Math.ceil(input.chunks / (o.parallelism ?? input.chunks)),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // SIGTERM first: the worker cancels its calls and writes their statuses within this grace.
          terminationGracePeriodSeconds: 10,
          ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
          ...(o.tolerations ? { tolerations: o.tolerations } : {}),
          ...(o.imagePullSecrets ? { imagePullSecrets: o.imagePullSecrets.map((name) => ({ name })) } : {}),
          securityContext: { runAsNonRoot: true },
          containers: [
            {
              name: 'worker',
              image: input.image,
              ...(o.imagePullPolicy ? { imagePullPolicy: o.imagePullPolicy } : {}),
              command: ['node', o.burstPath ?? IMAGE_BURST_PATH, 'worker', 'job'],
              env,
              resources: {
                requests: { cpu: String(cpu), memory },
                limits: { cpu: String(cpu), memory },
              },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

/** The type of {@link jobManifest}'s result. */
export type JobManifestObject = ReturnType<typeof jobManifest>;
