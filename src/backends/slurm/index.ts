/** The Slurm backend's definition: one `map` is one Slurm array job (see backend.ts). */
import { defineBackend } from '../definition.js';
import { slurmSchema } from './options.js';

export type { SlurmOptions } from './options.js';

/** The `slurm` backend. */
export const slurmBackend = defineBackend({
  name: 'slurm',
  summary: 'a Slurm cluster (one array job per map, through sbatch)',
  options: slurmSchema,
  create: async (options, context) => (await import('./backend.js')).slurm(options, context),
  prices: { perGbSecond: 0, perRequest: 0, note: 'runs on your cluster: no per-call charge' },
});
