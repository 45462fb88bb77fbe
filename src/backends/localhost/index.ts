/** The localhost backend's definition: a pool of worker processes on this machine (see backend.ts). */
import type { BackendDefinition } from '../definition.js';
import { localhostSchema, type LocalhostOptions } from './options.js';

export type { LocalhostOptions } from './options.js';

/** The `localhost` backend (the default). */
export const localhostBackend: BackendDefinition<ReturnType<typeof localhostSchema>, 'localhost', LocalhostOptions> = {
  name: 'localhost',
  summary: 'worker processes on this machine (the default)',
  options: localhostSchema,
  create: async (options, context) => (await import('./backend.js')).localhost(options, context),
  memoryPerInvocation: true,
  prices: { perGbSecond: 0, perRequest: 0, note: 'runs on this machine: no charge' },
};
