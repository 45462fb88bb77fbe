/** The openwhisk backend's definition: activations of a blackbox action of the worker image (see backend.ts, runtime.ts). */
import type { z as Zod } from 'zod';
import type { BackendDefinition, OptionsMatch, SameOptions } from '../definition.js';
import { openWhiskSchema, type OpenWhiskOptions } from './options.js';

export type { OpenWhiskOptions } from './options.js';

/** Compile-time tie of {@link OpenWhiskOptions} to its schema. */
export type OpenWhiskOptionsChecked = OptionsMatch<
  SameOptions<OpenWhiskOptions, Zod.input<ReturnType<typeof openWhiskSchema>>>
>;

/** The `openwhisk` backend. */
export const openWhiskBackend: BackendDefinition<ReturnType<typeof openWhiskSchema>, 'openwhisk', OpenWhiskOptions> = {
  name: 'openwhisk',
  summary: 'Apache OpenWhisk activations of a blackbox action of the worker image',
  options: openWhiskSchema,
  create: async (options, context) => (await import('./backend.js')).openwhisk(options, context),
  runtime: async () => (await import('./runtime.js')).openWhiskRuntimes,
};
