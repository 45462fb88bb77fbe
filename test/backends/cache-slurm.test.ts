/** The result cache and speculative backups on the Slurm backend (real two-node cluster, shared fs). */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureSlurm, type SlurmService } from '../services.ts';
import { cacheSuite } from './cache-suite.ts';

const slurm = await ensureSlurm();

cacheSuite('slurm (fs on a shared path)', {
  skip: async () => ('skip' in slurm ? `Slurm cluster unavailable: ${slurm.skip}` : undefined),
  options: async () => ({
    backend: 'slurm',
    // /var/tmp is on the disk every "node" of the test cluster sees at the same path.
    fs: { root: await mkdtemp(join('/var/tmp', 'burst-slurm-cache-')), shared: true },
    slurm: { partition: (slurm as SlurmService).partition },
    progress: false,
  }),
});
