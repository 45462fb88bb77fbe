/**
 * The public backend factories: `new FunctionExecutor({ backend: slurm({ partition: 'gpu' }) })`, each
 * typed with its backend's options. The string form (`backend: 'slurm'` with a `slurm: {...}` section)
 * does the same; a factory's options are laid over that section.
 */
import { selectBackend, type BackendSelection } from './definition.js';
import type { BackendOptionsMap } from './index.js';

/** A backend of the {@link BackendOptionsMap} chosen with its options. */
export type BackendChoice<K extends keyof BackendOptionsMap & string> = BackendSelection<K, BackendOptionsMap[K]>;

/** Worker processes on this machine (the default backend). */
export function localhost(options: BackendOptionsMap['localhost'] = {}): BackendChoice<'localhost'> {
  return selectBackend('localhost', options);
}

/** A Slurm cluster: one array job per map, submitted with sbatch (see the README's Slurm section). */
export function slurm(options: BackendOptionsMap['slurm'] = {}): BackendChoice<'slurm'> {
  return selectBackend('slurm', options);
}

/** AWS Lambda: one asynchronous invocation per chunk of calls (see the README's AWS Lambda section). */
export function awsLambda(options: BackendOptionsMap['aws_lambda'] = {}): BackendChoice<'aws_lambda'> {
  return selectBackend('aws_lambda', options);
}

/** A Knative Service running `burst worker serve`. */
export function knative(options: BackendOptionsMap['knative'] = {}): BackendChoice<'knative'> {
  return selectBackend('knative', options);
}

/** A Google Cloud Run service running `burst worker serve`. */
export function cloudrun(options: BackendOptionsMap['cloudrun'] = {}): BackendChoice<'cloudrun'> {
  return selectBackend('cloudrun', options);
}

/** An IBM Cloud Code Engine application running `burst worker serve`. */
export function codeEngine(options: BackendOptionsMap['code_engine'] = {}): BackendChoice<'code_engine'> {
  return selectBackend('code_engine', options);
}

/** Kubernetes (or OpenShift) Indexed Jobs of the worker image, one per map (see the README's Kubernetes section). */
export function k8s(options: BackendOptionsMap['k8s'] = {}): BackendChoice<'k8s'> {
  return selectBackend('k8s', options);
}

/** Apache OpenWhisk: one non-blocking activation of a blackbox action per chunk of calls. */
export function openwhisk(options: BackendOptionsMap['openwhisk'] = {}): BackendChoice<'openwhisk'> {
  return selectBackend('openwhisk', options);
}
