/** The IBM Cloud Code Engine backend's definition: an application of Burst's worker image (see backend.ts, runtime.ts). */
import type { z as Zod } from 'zod';
import type { BackendDefinition, OptionsMatch, SameOptions, ZodNamespace } from '../definition.js';
import { HTTP_REMOVED_OPTIONS, httpInvokerShape, serviceRuntimeShape } from '../http/options.js';
import { parts } from '../schema-parts.js';
import type { CodeEngineOptions } from './backend.js';
import type { CodeEngineRuntimeOptions } from './runtime.js';

/** Options of the `code_engine` section: the backend's and its runtime's. */
export type CodeEngineSection = CodeEngineOptions & CodeEngineRuntimeOptions;

/** The schema of {@link CodeEngineSection}. */
export function codeEngineSchema(z: ZodNamespace) {
  const p = parts(z);
  return z.object({
    ...httpInvokerShape(z),
    ...serviceRuntimeShape(z),
    region: p.str(),
    projectId: p.str(),
    cpu: z.number({ error: 'a positive number of vCPUs' }).positive({ error: 'a positive number of vCPUs' }).optional(),
    imageSecret: p.str(),
  });
}

/** Compile-time tie of {@link CodeEngineSection} to its schema. */
export type CodeEngineOptionsChecked = OptionsMatch<
  SameOptions<CodeEngineSection, Zod.input<ReturnType<typeof codeEngineSchema>>>
>;

/** The `code_engine` backend. */
export const codeEngineBackend: BackendDefinition<
  ReturnType<typeof codeEngineSchema>,
  'code_engine',
  CodeEngineSection
> = {
  name: 'code_engine',
  summary: 'an IBM Cloud Code Engine application running "burst worker serve"',
  options: codeEngineSchema,
  create: async (options, context) => (await import('./backend.js')).codeEngine(options, context),
  runtime: async () => (await import('./runtime.js')).codeEngineRuntimes,
  removedOptions: HTTP_REMOVED_OPTIONS,
};
