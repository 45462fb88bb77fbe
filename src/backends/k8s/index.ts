/** The k8s backend's definition: one Kubernetes Indexed Job per map (see backend.ts, manifest.ts, runtime.ts). */
import type { z as Zod } from 'zod';
import type { BackendDefinition, OptionsMatch, SameOptions } from '../definition.js';
import { k8sSchema, type K8sOptions } from './options.js';

export type { K8sOptions, K8sToleration } from './options.js';

/** Compile-time tie of {@link K8sOptions} to its schema. */
export type K8sOptionsChecked = OptionsMatch<SameOptions<K8sOptions, Zod.input<ReturnType<typeof k8sSchema>>>>;

/** The `k8s` backend. */
export const k8sBackend: BackendDefinition<ReturnType<typeof k8sSchema>, 'k8s', K8sOptions> = {
  name: 'k8s',
  summary: 'Kubernetes (or OpenShift) Indexed Jobs of the worker image',
  options: k8sSchema,
  create: async (options, context) => (await import('./backend.js')).k8s(options, context),
  runtime: async () => (await import('./runtime.js')).k8sRuntimes,
  memoryPerInvocation: true,
};
