/** The Slurm backend's definition: one `map` is one Slurm array job (see backend.ts). */
import type { BackendDefinition } from '../definition.js';
import { slurmSchema, type SlurmOptions } from './options.js';

export type { SlurmOptions } from './options.js';

/** The `slurm` backend. */
export const slurmBackend: BackendDefinition<ReturnType<typeof slurmSchema>, 'slurm', SlurmOptions> = {
  name: 'slurm',
  summary: 'a Slurm cluster (one array job per map, through sbatch)',
  options: slurmSchema,
  create: async (options, context) => (await import('./backend.js')).slurm(options, context),
  memoryPerInvocation: true,
  prices: { perGbSecond: 0, perRequest: 0, note: 'runs on your cluster: no per-call charge' },
};
