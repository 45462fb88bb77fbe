/**
 * The test services really work: the Ceph gateway stores and returns an object (signed with curl, so
 * this does not depend on Burst's own S3 driver), the Slurm cluster runs an array job on both of
 * its nodes, and a job on each node reaches the gateway at the cluster endpoint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureCeph, ensureSlurm, parseExports, type CephService } from './services.js';

const exec = promisify(execFile);
const ceph = await ensureCeph();
const slurm = await ensureSlurm();
const cephSkip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;
const slurmSkip = 'skip' in slurm ? `Slurm unavailable: ${slurm.skip}` : undefined;
/** Jobs are written under /var/tmp: the nodes share this machine's filesystem. */
const sharedRoot = '/var/tmp';

/** curl with SigV4. curl 7.88 does not send x-amz-content-sha256 by itself, and RGW requires it. */
function s3curl(s3: CephService, endpoint: string, args: string[]): string[] {
  return [
    '-sS',
    '--fail-with-body',
    '-m',
    '30',
    '--aws-sigv4',
    `aws:amz:${s3.region}:s3`,
    '--user',
    `${s3.accessKeyId}:${s3.secretAccessKey}`,
    '-H',
    'x-amz-content-sha256: UNSIGNED-PAYLOAD',
    ...args.map((a) => a.replace('{}', endpoint)),
  ];
}

async function curl(s3: CephService, args: string[]): Promise<string> {
  return (await exec('curl', s3curl(s3, s3.endpoint, args))).stdout;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

describe('test services', () => {
  it('parses the env output of the scripts', () => {
    assert.deepEqual(parseExports("export A_B=http://x:1\nnoise\nexport C='q v'\n"), { A_B: 'http://x:1', C: 'q v' });
  });

  describe('Ceph RADOS Gateway', { skip: cephSkip }, () => {
    const bucket = `burst-services-${process.pid}`;
    after(async () => {
      if ('skip' in ceph) return;
      await curl(ceph, ['-X', 'DELETE', `{}/${bucket}/hello.txt`]).catch(() => undefined);
      await curl(ceph, ['-X', 'DELETE', `{}/${bucket}`]).catch(() => undefined);
    });

    it('stores and returns an object over signed S3 requests', async () => {
      assert.ok(!('skip' in ceph));
      await curl(ceph, ['-X', 'PUT', `{}/${bucket}`]);
      await curl(ceph, ['-X', 'PUT', '--data-binary', 'hello from burst', `{}/${bucket}/hello.txt`]);
      assert.equal(await curl(ceph, [`{}/${bucket}/hello.txt`]), 'hello from burst');
      assert.match(await curl(ceph, [`{}/${bucket}?list-type=2`]), /<Key>hello\.txt<\/Key>/);
    });

    it('refuses a wrong secret', async () => {
      assert.ok(!('skip' in ceph));
      const wrong = { ...ceph, secretAccessKey: 'not-the-secret' };
      await assert.rejects(curl(wrong, [`{}/${bucket}/hello.txt`]), /403|SignatureDoesNotMatch/);
    });
  });

  describe('Slurm cluster', { skip: slurmSkip }, () => {
    let dir: string | undefined;
    after(async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('runs a 4-task array job on both nodes', { timeout: 120_000 }, async () => {
      assert.ok(!('skip' in slurm));
      dir = await mkdtemp(join(sharedRoot, 'burst-services-'));
      await exec(
        'sbatch',
        [
          '--wait',
          '--quiet',
          `--partition=${slurm.partition}`,
          '--array=0-3',
          `--chdir=${dir}`,
          '--output=/dev/null',
          '--wrap',
          'echo "$SLURMD_NODENAME" > "task-$SLURM_ARRAY_TASK_ID.txt"',
        ],
        { timeout: 110_000 },
      );
      const files = (await readdir(dir)).filter((f) => f.startsWith('task-')).sort();
      assert.deepEqual(files, ['task-0.txt', 'task-1.txt', 'task-2.txt', 'task-3.txt']);
      const names = new Set(await Promise.all(files.map(async (f) => (await readFile(join(dir!, f), 'utf8')).trim())));
      assert.deepEqual([...names].sort(), [...slurm.nodes].sort(), 'the tasks ran on both nodes');
    });

    it('reports the state and reason of a finished job without accounting', { timeout: 120_000 }, async () => {
      assert.ok(!('skip' in slurm));
      const { stdout } = await exec(
        'sbatch',
        ['--parsable', '--wait', `--partition=${slurm.partition}`, '--output=/dev/null', '--wrap', 'exit 3'],
        { timeout: 110_000 },
      ).catch((e: { stdout: string }) => e);
      const id = stdout.trim().split(';')[0] ?? '';
      assert.match(id, /^\d+$/);
      const q = await exec('squeue', ['--noheader', '--states=all', '--jobs', id, '--format=%T %r']);
      assert.equal(q.stdout.trim(), 'FAILED NonZeroExitCode');
    });

    it('lets a job on each node reach the Ceph gateway at the cluster endpoint', {
      timeout: 120_000,
      skip: cephSkip,
    }, async () => {
      assert.ok(!('skip' in slurm) && !('skip' in ceph));
      const bucket = `burst-services-nodes-${process.pid}`;
      await curl(ceph, ['-X', 'PUT', `{}/${bucket}`]);
      try {
        const script = [
          'curl',
          ...s3curl(ceph, ceph.clusterEndpoint, [
            '-X',
            'PUT',
            '--data-binary',
            'from $SLURMD_NODENAME',
            `{}/${bucket}/$SLURMD_NODENAME`,
          ]),
        ]
          .map((a) => (a.includes('$SLURMD_NODENAME') ? `"${a}"` : shellQuote(a)))
          .join(' ');
        await exec(
          'sbatch',
          [
            '--wait',
            '--quiet',
            `--partition=${slurm.partition}`,
            `--nodes=${slurm.nodes.length}`,
            '--ntasks-per-node=1',
            '--output=/dev/null',
            '--wrap',
            `srun bash -c ${shellQuote(script)}`,
          ],
          { timeout: 110_000 },
        );
        for (const node of slurm.nodes) assert.equal(await curl(ceph, [`{}/${bucket}/${node}`]), `from ${node}`);
      } finally {
        for (const node of slurm.nodes)
          await curl(ceph, ['-X', 'DELETE', `{}/${bucket}/${node}`]).catch(() => undefined);
        await curl(ceph, ['-X', 'DELETE', `{}/${bucket}`]).catch(() => undefined);
      }
    });
  });
});
