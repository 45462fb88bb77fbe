/** The Knative backend's definition: calls run in a Knative Service of Burst's worker image (see backend.ts, runtime.ts). */
import type { z as Zod } from 'zod';
import type { BackendDefinition, OptionsMatch, SameOptions, ZodNamespace } from '../definition.js';
import { HTTP_REMOVED_OPTIONS, httpInvokerShape, serviceRuntimeShape } from '../http/options.js';
import { parts } from '../schema-parts.js';
import type { KnativeOptions } from './backend.js';
import type { KnativeRuntimeOptions } from './runtime.js';

/** Options of the `knative` section: the backend's and its runtime's. */
export type KnativeSection = KnativeOptions & KnativeRuntimeOptions;

/** The schema of {@link KnativeSection}. */
export function knativeSchema(z: ZodNamespace) {
  const p = parts(z);
  return z.object({
    ...httpInvokerShape(z),
    ...serviceRuntimeShape(z),
    namespace: p.str(),
    kubeconfig: p.str(),
    context: p.str(),
  });
}

/** Compile-time tie of {@link KnativeSection} to its schema. */
export type KnativeOptionsChecked = OptionsMatch<
  SameOptions<KnativeSection, Zod.input<ReturnType<typeof knativeSchema>>>
>;

/** The `knative` backend. */
export const knativeBackend: BackendDefinition<ReturnType<typeof knativeSchema>, 'knative', KnativeSection> = {
  name: 'knative',
  summary: 'a Knative Service running "burst worker serve"',
  options: knativeSchema,
  create: async (options, context) => (await import('./backend.js')).knative(options, context),
  runtime: async () => (await import('./runtime.js')).knativeRuntimes,
  removedOptions: HTTP_REMOVED_OPTIONS,
};
