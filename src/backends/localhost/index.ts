/** The localhost backend's definition: a pool of worker processes on this machine (see backend.ts). */
import { defineBackend } from '../definition.js';
import { localhostSchema } from './options.js';

export type { LocalhostOptions } from './options.js';

/** The `localhost` backend (the default). */
export const localhostBackend = defineBackend({
  name: 'localhost',
  summary: 'worker processes on this machine (the default)',
  options: localhostSchema,
  create: async (options, context) => (await import('./backend.js')).localhost(options, context),
  prices: { perGbSecond: 0, perRequest: 0, note: 'runs on this machine: no charge' },
});
