/**
 * The result cache and speculative backups on the HTTP worker backend (knative driver): three real
 * `burst worker serve` processes in network namespaces, storage on the Ceph gateway.
 */
import { cacheSuite } from './cache-suite.ts';
import { httpWorkers } from './http-workers.ts';

const workers = await httpWorkers('cache');

cacheSuite('http workers (knative, 3 burst worker serve instances, s3 on Ceph)', {
  skip: async () => workers.skip,
  options: async () => ({
    backend: 'knative',
    knative: { urls: (await workers.servers()).map((s) => s.url), token: workers.token, concurrency: 12 },
    ...workers.storageOptions('burst-cache-suite'),
  }),
});
