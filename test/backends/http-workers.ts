/**
 * Real HTTP workers for the container-platform backends (cloudrun, code_engine): one secured
 * `burst worker serve` process per network-namespace host (test/serve-hosts.ts), storage on the Ceph
 * gateway, as knative.test.ts runs them. Ports are picked by the serve processes (port 0), so these
 * files can run beside knative.test.ts, whose workers hold fixed ports in the same namespaces.
 */
import { after } from 'node:test';
import type { ExecutorOptions } from '../../src/index.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { ensureServeHosts, startServe, type ServeHosts, type ServeProcess } from '../serve-hosts.ts';

/** Workers of one test file and how a client reaches their storage. */
export interface HttpWorkers {
  /** Why the file cannot run here (no Ceph or no namespaces), or undefined. */
  skip: string | undefined;
  hosts: ServeHosts;
  /** The shared secret every worker requires (`BURST_SERVE_TOKEN`). */
  token: string;
  /** The client options of storage on Ceph, bucket `bucket`, signed jobs. */
  storageOptions(bucket: string): ExecutorOptions;
  /** One worker per host (started on first call, stopped after the file). */
  servers(): Promise<ServeProcess[]>;
}

/** Prepares the workers of a test file; `name` makes the token and signing key its own. */
export async function httpWorkers(name: string): Promise<HttpWorkers> {
  const [ceph, net] = await Promise.all([ensureCeph(), ensureServeHosts()]);
  const skip =
    'skip' in ceph
      ? `Ceph RGW unavailable: ${ceph.skip}`
      : 'skip' in net
        ? `network namespaces unavailable: ${net.skip}`
        : undefined;
  const hosts = net as ServeHosts;
  const token = `${name}-test-secret`;
  const signingKey = `${name}-test-signing-key-0123456789`;
  /** The s3 configuration both sides use: the serve processes get it at start, never in requests. */
  const s3 = (): Record<string, unknown> => {
    const c = ceph as CephService;
    const port = new URL(c.endpoint).port || '80';
    return {
      endpoint: `http://${hosts.hostAddr}:${port}`,
      region: c.region,
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      forcePathStyle: true,
    };
  };
  let started: Promise<ServeProcess[]> | undefined;
  after(async () => {
    const servers = await started?.catch(() => []);
    await Promise.all((servers ?? []).map((s) => s.stop()));
  });
  return {
    skip,
    hosts,
    token,
    storageOptions: (bucket) => ({ storage: 's3', s3: s3(), bucket, signingKey, progress: false }),
    servers: () => {
      started ??= Promise.all(
        hosts.hosts.map((host, i) =>
          startServe({
            host,
            addr: hosts.addrs[i] as string,
            port: 0,
            args: ['--concurrency', '4', '--storage-config', JSON.stringify({ driver: 's3', options: s3() })],
            env: { BURST_SERVE_TOKEN: token, BURST_SIGNING_KEY: signingKey },
          }),
        ),
      );
      return started;
    },
  };
}
