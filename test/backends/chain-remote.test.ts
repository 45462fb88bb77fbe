/**
 * Chaining, futures as inputs and streaming reduce on the remote backends: Slurm on the two-node
 * cluster (fs on a shared path), and HTTP workers (the knative backend before three `burst worker
 * serve` instances in network namespaces, s3 on Ceph).
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureSlurm, type SlurmService } from '../services.ts';
import { httpWorkers } from './http-workers.ts';
import { chainSuite } from './chain-suite.ts';

const [slurm, workers] = await Promise.all([ensureSlurm(), httpWorkers('chain')]);

chainSuite('slurm (fs on a shared path)', {
  storageChannel: true,
  skip: async () => ('skip' in slurm ? `Slurm cluster unavailable: ${slurm.skip}` : undefined),
  options: async () => ({
    backend: 'slurm',
    storage: 'fs',
    // /var/tmp is on the disk every "node" of the test cluster sees at the same path.
    fs: { root: await mkdtemp(join('/var/tmp', 'burst-chain-')), shared: true },
    slurm: { partition: (slurm as SlurmService).partition },
    progress: false,
  }),
});

chainSuite('HTTP workers (knative backend, 3 burst worker serve instances, s3 on Ceph)', {
  storageChannel: true,
  skip: async () => workers.skip,
  options: async () => ({
    backend: 'knative',
    knative: { urls: (await workers.servers()).map((s) => s.url), concurrency: 12, token: workers.token },
    ...workers.storageOptions('burst-chain-suite'),
  }),
});
