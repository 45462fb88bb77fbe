/**
 * Bad input to `burst worker run` / `burst worker serve` fails with a typed Burst error (printed as
 * `ConfigError [CONFIG]: ...`) that names the flag or variable at fault, never a plain Error.
 */
import { after, describe, it } from 'node:test';
import { burst, fails, sandbox } from './helpers.ts';

const box = sandbox();
after(() => box.cleanup());
const fsConfig = (): string => JSON.stringify({ driver: 'fs', options: { root: box.root } });
const noEnvConfig = { BURST_STORAGE_CONFIG: undefined };

describe('burst worker: typed errors for bad input', () => {
  it('no storage configuration names --storage-config and BURST_STORAGE_CONFIG', async () => {
    fails(
      await burst(['worker', 'run', '--job', 'burst/jobs/e/M000', '--calls', '0'], box, { env: noEnvConfig }),
      'ConfigError [CONFIG]: no storage configuration: pass --storage-config or set BURST_STORAGE_CONFIG',
    );
  });

  it('a storage configuration that is not JSON, or not of the right shape, names where it came from', async () => {
    fails(
      await burst(['worker', 'run', '--job', 'j', '--calls', '0', '--storage-config', '{"driver":'], box, {
        env: noEnvConfig,
      }),
      'ConfigError [CONFIG]: --storage-config is not valid JSON',
    );
    fails(
      await burst(['worker', 'run', '--job', 'j', '--calls', '0'], box, {
        env: { BURST_STORAGE_CONFIG: '{"driver":"fs"}' },
      }),
      'ConfigError [CONFIG]: BURST_STORAGE_CONFIG must look like {"driver":"fs","options":{...}}, got {"driver":"fs"}',
    );
  });

  it('a bad call list names the list and the part at fault', async () => {
    fails(
      await burst(['worker', 'run', '--job', 'j', '--calls', '0,x-2', '--storage-config', fsConfig()], box),
      'ConfigError [CONFIG]: invalid call list "0,x-2": "x-2" is not a number or a range like 3-7',
    );
    fails(
      await burst(['worker', 'run', '--job', 'j', '--calls', '5-1', '--storage-config', fsConfig()], box),
      'ConfigError [CONFIG]: invalid call list "5-1": range "5-1" goes backwards',
    );
  });

  it('bad numbers name their flag', async () => {
    const base = ['worker', 'run', '--job', 'j', '--calls', '0-3', '--storage-config', fsConfig()];
    fails(
      await burst([...base, '--task-index', '-1'], box),
      'ConfigError [CONFIG]: --task-index must be a non-negative integer, got -1',
    );
    fails(
      await burst([...base, '--task-index', '2', '--chunksize', '2'], box),
      'ConfigError [CONFIG]: --task-index 2 selects no calls from 0-3 in chunks of 2',
    );
    fails(
      await burst([...base, '--task-index', '0', '--chunksize', '0'], box),
      'ConfigError [CONFIG]: --chunksize must be a positive integer, got 0',
    );
    fails(
      await burst([...base, '--workers', 'two'], box),
      'ConfigError [CONFIG]: --workers must be a positive integer, got two',
    );
    fails(
      await burst(['worker', 'serve', '--insecure', '--port', '-5'], box),
      'ConfigError [CONFIG]: --port must be a non-negative integer, got -5',
    );
  });
});
