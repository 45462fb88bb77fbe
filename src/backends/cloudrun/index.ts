/** The Google Cloud Run backend's definition: a Cloud Run service of Burst's worker image (see backend.ts, runtime.ts). */
import type { z as Zod } from 'zod';
import type { BackendDefinition, OptionsMatch, SameOptions, ZodNamespace } from '../definition.js';
import { HTTP_REMOVED_OPTIONS, httpInvokerShape, serviceRuntimeShape } from '../http/options.js';
import { parts } from '../schema-parts.js';
import type { CloudRunOptions } from './backend.js';
import type { CloudRunRuntimeOptions } from './runtime.js';

/** Options of the `cloudrun` section: the backend's and its runtime's. */
export type CloudRunSection = CloudRunOptions & CloudRunRuntimeOptions;

/** The schema of {@link CloudRunSection}. */
export function cloudRunSchema(z: ZodNamespace) {
  const p = parts(z);
  return z.object({
    ...httpInvokerShape(z),
    ...serviceRuntimeShape(z),
    idToken: p.str(),
    gcloud: p.bool(),
    project: p.str(),
    region: p.str(),
    cpu: z.number({ error: 'a positive number of vCPUs' }).positive({ error: 'a positive number of vCPUs' }).optional(),
    serviceAccount: p.str(),
  });
}

/** Compile-time tie of {@link CloudRunSection} to its schema. */
export type CloudRunOptionsChecked = OptionsMatch<
  SameOptions<CloudRunSection, Zod.input<ReturnType<typeof cloudRunSchema>>>
>;

/** The `cloudrun` backend. */
export const cloudRunBackend: BackendDefinition<ReturnType<typeof cloudRunSchema>, 'cloudrun', CloudRunSection> = {
  name: 'cloudrun',
  summary: 'a Google Cloud Run service running "burst worker serve"',
  options: cloudRunSchema,
  create: async (options, context) => (await import('./backend.js')).cloudrun(options, context),
  runtime: async () => (await import('./runtime.js')).cloudRunRuntimes,
  removedOptions: HTTP_REMOVED_OPTIONS,
};
