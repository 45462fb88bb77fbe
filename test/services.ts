/**
 * The real services some tests need, started on demand: a Ceph RADOS Gateway (S3) and a two-node
 * Slurm cluster. Each `ensureX()` runs `scripts/services/X.sh start` (idempotent, flock-protected,
 * installs Debian's packages when missing; a no-op taking ~50 ms when the service already runs)
 * and reads the settings from `X.sh env`. The result is memoized per process.
 *
 * When the service cannot be had here (not root, no apt, install or start failed) the result is
 * `{ skip: reason }`, so the tests skip with a printed reason. With `BURST_REQUIRE_SERVICES=1`
 * (set by `.ci/run`) it throws instead, so a skip in CI is a failure. `BURST_SKIP_SERVICES=1` skips
 * without trying (for a quick local run that should not install or start anything).
 *
 * Usage:
 * ```ts
 * import { ensureCeph, ensureSlurm } from '../services.js';
 *
 * const ceph = await ensureCeph();
 * const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
 * describe('s3 on Ceph', { skip }, () => {
 *   // here ceph.endpoint, ceph.accessKeyId, ... (narrow with `if ('skip' in ceph) return;`)
 * });
 *
 * const slurm = await ensureSlurm();
 * describe('slurm backend', { skip: 'skip' in slurm ? slurm.skip : undefined }, () => { ... });
 * ```
 *
 * Jobs on the Slurm nodes run in their own network namespaces: from there the gateway is at
 * `ceph.clusterEndpoint`, not at `ceph.endpoint` (127.0.0.1 is the node's own loopback). The nodes
 * share this machine's filesystem, so an `fs` store under /tmp or /var/tmp is shared by them.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The S3 gateway of the test Ceph cluster. */
export interface CephService {
  /** For the test process on this host, e.g. `http://127.0.0.1:7480`. */
  endpoint: string;
  /** For jobs on the Slurm nodes (the host end of their bridge), e.g. `http://10.77.0.1:7480`. */
  clusterEndpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The test Slurm cluster: two nodes, each in its own network namespace. */
export interface SlurmService {
  /** The partition to submit to (also the default one). */
  partition: string;
  /** The node names, e.g. `['burst-n1', 'burst-n2']` (what `$SLURMD_NODENAME` says in a job). */
  nodes: string[];
}

/** The service could not be started here; `skip` says why. */
export interface Skipped {
  skip: string;
}

const scripts = fileURLToPath(new URL('../scripts/services/', import.meta.url));
/** A first start may install Debian packages (~20 s) and start the daemons (~15 s); bound it anyway. */
const START_TIMEOUT_MS = 10 * 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(script: string, command: string, timeout: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', [scripts + script, command], { timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      const killed = err?.killed ? `\n(killed after ${timeout} ms)` : '';
      resolve({ code, stdout, stderr: stderr + killed });
    });
  });
}

/** Parses `export NAME=value` lines, as the `env` commands print them. */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return out;
}

/** Runs `scripts/services/<script> start` then `env`; the parsed variables, or why the service is skipped. */
export async function ensure(script: string): Promise<{ vars: Record<string, string> } | Skipped> {
  const required = process.env.BURST_REQUIRE_SERVICES === '1';
  const fail = (reason: string): Skipped => {
    if (required) throw new Error(`${script}: ${reason} (BURST_REQUIRE_SERVICES=1 turns this skip into a failure)`);
    process.stderr.write(`# ${script}: skipping tests that need it: ${reason}\n`);
    return { skip: reason };
  };
  if (process.env.BURST_SKIP_SERVICES === '1' && !required) return fail('BURST_SKIP_SERVICES=1');
  if (process.platform !== 'linux') return fail(`needs Linux, this is ${process.platform}`);
  const start = await run(script, 'start', START_TIMEOUT_MS);
  if (start.code !== 0) {
    // Exit code 2: this machine cannot run it (not root, no apt). Anything else: it failed to start;
    // the script's stderr already holds the daemon logs' tails.
    const tail = start.stderr.trim().split('\n').slice(-40).join('\n');
    if (start.code === 2) {
      const said = tail.split('\n').findLast((l) => l.includes('UNSUPPORTED: '));
      return fail(said?.replace(/^.*UNSUPPORTED: /, '') ?? tail);
    }
    return fail(`start failed (exit ${start.code}):\n${tail}`);
  }
  const env = await run(script, 'env', 30_000);
  if (env.code !== 0) return fail(`env failed (exit ${env.code}): ${env.stderr.trim()}`);
  return { vars: parseExports(env.stdout) };
}

function need(vars: Record<string, string>, name: string): string {
  const v = vars[name];
  if (v === undefined || v === '') throw new Error(`services: ${name} missing from the env output`);
  return v;
}

let ceph: Promise<CephService | Skipped> | undefined;
let slurm: Promise<SlurmService | Skipped> | undefined;

/** Starts (if needed) the Ceph cluster and its S3 gateway; see the file header. */
export function ensureCeph(): Promise<CephService | Skipped> {
  ceph ??= ensure('ceph.sh').then((r) =>
    'skip' in r
      ? r
      : {
          endpoint: need(r.vars, 'BURST_TEST_S3_ENDPOINT'),
          clusterEndpoint: need(r.vars, 'BURST_TEST_S3_ENDPOINT_CLUSTER'),
          accessKeyId: need(r.vars, 'BURST_TEST_S3_ACCESS_KEY'),
          secretAccessKey: need(r.vars, 'BURST_TEST_S3_SECRET_KEY'),
          region: need(r.vars, 'BURST_TEST_S3_REGION'),
        },
  );
  return ceph;
}

/** Starts (if needed) the two-node Slurm cluster; see the file header. */
export function ensureSlurm(): Promise<SlurmService | Skipped> {
  slurm ??= ensure('slurm.sh').then((r) =>
    'skip' in r
      ? r
      : {
          partition: need(r.vars, 'BURST_TEST_SLURM_PARTITION'),
          nodes: need(r.vars, 'BURST_TEST_SLURM_NODES').split(','),
        },
  );
  return slurm;
}

/** The test Redis server (scripts/services/redis.sh): password-protected, on 127.0.0.1 and the Slurm bridge. */
export interface RedisService {
  /** For the test process on this host, with the password: `redis://:…@127.0.0.1:6390`. */
  url: string;
  /** For jobs on the Slurm nodes (the host end of their bridge): `redis://:…@10.77.0.1:6390`. */
  clusterUrl: string;
}

let redis: Promise<RedisService | Skipped> | undefined;

/** Starts (if needed) the test Redis server; see the file header. */
export function ensureRedis(): Promise<RedisService | Skipped> {
  redis ??= ensure('redis.sh').then((r) =>
    'skip' in r
      ? r
      : { url: need(r.vars, 'BURST_TEST_REDIS_URL'), clusterUrl: need(r.vars, 'BURST_TEST_REDIS_URL_CLUSTER') },
  );
  return redis;
}
