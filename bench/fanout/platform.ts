/**
 * The modelled platform, in a process of its own so the client's CPU and memory are its own: the S3
 * proxy (s3-server.ts over the memory driver, or the fs driver with BURST_FANOUT_STORE=fs) and the Lambda Invoke API (lambda-model.ts), whose workers
 * reach the same store through the same model in-process. Driven over IPC by run.ts:
 * `{ t: 'reset' }` zeroes the counters, `{ t: 'counts' }` answers them, `{ t: 'stop' }` exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fs, memory } from '../../src/storage/index.ts';
import { LambdaModel } from './lambda-model.ts';
import { startS3Server } from './s3-server.ts';
import { modelledDriver, StorageModel } from './storage-model.ts';

export interface PlatformReady {
  t: 'ready';
  s3: string;
  lambda: string;
}

process.env.AWS_ACCESS_KEY_ID ??= 'AKIDFANOUTMODEL';
process.env.AWS_SECRET_ACCESS_KEY ??= 'fanout-model';
const root = mkdtempSync(join(tmpdir(), 'burst-fanout-store-'));
const runtimeDir = mkdtempSync(join(tmpdir(), 'burst-fanout-runtime-'));
// The memory driver by default: the model's own CPU competes with the client's on this 2-core
// machine, and the fs driver cost ~5 ms of it per invocation. `BURST_FANOUT_STORE=fs` for files.
const store = process.env.BURST_FANOUT_STORE === 'fs' ? fs({ root }) : memory();
const model = new StorageModel();
const lambda = new LambdaModel((env) => modelledDriver(store, model, env), runtimeDir);
const s3 = await startS3Server(store, model);
const api = await lambda.start();

process.on('message', (m: { t: string }) => {
  if (m.t === 'reset') {
    model.reset();
    lambda.reset();
    process.send?.({ t: 'reset' });
  } else if (m.t === 'counts') {
    process.send?.({ t: 'counts', storage: model.counts, lambda: lambda.counts, cpu: process.cpuUsage() });
  } else if (m.t === 'stop') {
    s3.server.closeAllConnections();
    api.server.closeAllConnections();
    s3.server.close();
    api.server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(runtimeDir, { recursive: true, force: true });
    process.exit(0);
  }
});
process.send?.({ t: 'ready', s3: s3.url, lambda: api.url } satisfies PlatformReady);
