/**
 * The AWS Lambda entry of the Burst worker: `handler(event, context)` re-creates storage from the
 * event, runs the event's calls with {@link runCalls} (the same backend-agnostic worker every backend
 * uses) and, in fan-out mode, first invokes copies of itself for the rest of a large map.
 *
 * Credentials: on Lambda the storage driver takes its credentials from the function's role (the
 * runtime puts them in the environment). The event carries keys only when the user configured them
 * explicitly for the s3 store (e.g. a Ceph or R2 endpoint the role cannot reach).
 *
 * Bundled into index.js (with child.js, api.js and their shared chunks beside it) by `burst runtime
 * deploy`; never import client-side modules here: api.js is loaded only for a function that imports
 * burst-compute (src/worker/self-resolve.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkCalls, parseCallSpec, formatCallSpec } from '../../../worker/call-spec.js';
import { keys } from '../../../job/layout.js';
import { LAMBDA_EVENT_VERSION, lambdaLocation, type LambdaFanout, type LambdaWorkerEvent } from './event.js';
import { encodeStatus, type StoredStatus } from '../../../job/status.js';
import type { StorageDriver } from '../../../storage/types.js';
import { envStorageConfig } from '../../../worker/storage-config.js';
import { BurstError, ConfigError } from '../../../errors.js';

/** The fields of the Lambda context object the handler reads. */
export interface LambdaContextLike {
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  functionName: string;
  /** The function's memory size (Lambda passes it as a string). */
  memoryLimitInMB?: string | number;
}

/** What an invocation returns (visible only to synchronous invocations and in CloudWatch). */
export interface LambdaWorkerResult {
  succeeded: number;
  failed: number;
  /** Invocations this one started in fan-out mode. */
  invoked: number;
}

/** Lambda's layer folder for Node packages. */
const LAYER_MODULES = '/opt/nodejs/node_modules';

/** Runs the calls of one invocation; see the file header. */
export const handler = async (event: LambdaWorkerEvent, context: LambdaContextLike): Promise<LambdaWorkerResult> => {
  if (event?.burst !== LAMBDA_EVENT_VERSION) {
    throw new BurstError(
      'VERSION_MISMATCH',
      `this Burst worker function understands events of version ${LAMBDA_EVENT_VERSION}, got ${JSON.stringify(event?.burst)}: redeploy it with "burst runtime deploy" from the client's Burst`,
      { backend: 'aws_lambda' },
    );
  }
  // The log stream names the execution environment, the nearest thing Lambda has to a host.
  process.env.BURST_HOSTNAME = context.logStreamName;
  const location = lambdaLocation(
    { logGroup: context.logGroupName, logStream: context.logStreamName, requestId: context.awsRequestId },
    process.env.AWS_REGION,
  );
  const config = event.storage ?? envStorageConfig();
  if (!config)
    throw new ConfigError(
      `no storage configuration for job ${event.jobKey}: the event has none and BURST_STORAGE_CONFIG is not set`,
      { keyPath: 'BURST_STORAGE_CONFIG', backend: 'aws_lambda' },
    );
  // An event must not choose code for the worker to import: the zip carries the built-in drivers only.
  if (config.module !== undefined)
    throw new ConfigError(
      `the storage configuration of job ${event.jobKey} names a module to import (${JSON.stringify(config.module)}); the Lambda worker runs only its built-in storage drivers`,
      { keyPath: 'storage.module', backend: 'aws_lambda' },
    );
  const [{ openStorageConfig }, { runCalls }] = await Promise.all([
    import('../../../storage/index.js'),
    import('../../../worker/handler.js'),
  ]);
  const storage = await openStorageConfig(config);
  try {
    let callIds = parseCallSpec(event.calls);
    let fanning: Promise<number> = Promise.resolve(0);
    if (event.fanout) {
      const chunks = chunkCalls(parseCallSpec(event.fanout.calls), event.fanout.chunksize);
      callIds = chunks[0] ?? [];
      fanning = fanOut(event, event.fanout, chunks.slice(1), storage);
    }
    const [counts, invoked] = await Promise.all([
      callIds.length
        ? runCalls({
            storage,
            bucket: event.bucket,
            jobKey: event.jobKey,
            callIds,
            attempt: event.attempt,
            workers: callIds.length,
            location,
            keepJob: true, // a warm environment runs many invocations of one job: read it once
            ...memoryBudget(context),
            ...(await runtimeDir()),
          })
        : { succeeded: 0, failed: 0 },
      fanning,
    ]);
    console.log(
      `burst worker: ${counts.succeeded} succeeded, ${counts.failed} failed, ${invoked} invocations started (job ${event.jobKey}, calls ${event.calls})`,
    );
    return { ...counts, invoked };
  } finally {
    await storage.close?.();
  }
};

/** Invokes one copy of this function per chunk; calls whose invocation failed get a failed status. */
async function fanOut(
  event: LambdaWorkerEvent,
  f: LambdaFanout,
  chunks: number[][],
  storage: StorageDriver,
): Promise<number> {
  if (chunks.length === 0) return 0;
  const [sdk, { invokeAll }] = await Promise.all([import('@aws-sdk/client-lambda'), import('./invoker.js')]);
  const client = new sdk.LambdaClient({ maxAttempts: 1, ...(f.endpoint ? { endpoint: f.endpoint } : {}) });
  try {
    const { fanout: _drop, ...base } = event;
    const payloads = chunks.map((ids) =>
      JSON.stringify({ ...base, calls: formatCallSpec(ids) } satisfies LambdaWorkerEvent),
    );
    const failed = await invokeAll(payloads, {
      client,
      InvokeCommand: sdk.InvokeCommand,
      functionName: f.functionName,
      concurrency: f.concurrency,
    }).catch((err: unknown) => {
      const error = (err as { error?: unknown }).error ?? err;
      return chunks.map((_, index) => ({ index, error }));
    });
    const now = Date.now();
    await Promise.all(
      failed.flatMap(({ index, error }) =>
        (chunks[index] ?? []).map((callId) => {
          const status: StoredStatus = {
            callId,
            ok: false,
            attempt: event.attempt,
            error: {
              kind: 'crash',
              name: 'WorkerCrashError',
              message: `the remote invoker could not invoke Lambda function ${f.functionName} for call ${callId}: ${(error as Error)?.message ?? String(error)}`,
            },
            stats: {
              workerStart: now,
              fnStart: now,
              fnEnd: now,
              cold: true,
              bytesIn: 0,
              bytesOut: 0,
              hostname: process.env.BURST_HOSTNAME ?? '',
              pid: process.pid,
            },
          };
          return storage.put(event.bucket, keys.status(event.jobKey, callId, event.attempt), encodeStatus(status));
        }),
      ),
    );
    return chunks.length - failed.length;
  } finally {
    client.destroy();
  }
}

let prepared: Promise<{ runtimeDir?: string }> | undefined;

/**
 * The folder whose node_modules resolves packages left out of function bundles. On Lambda the task
 * folder is read-only and ESM ignores NODE_PATH, so the layer's packages are linked into a
 * node_modules under /tmp, where bundles are written too.
 */
function runtimeDir(): Promise<{ runtimeDir?: string }> {
  prepared ??= (async () => {
    if (process.env.BURST_RUNTIME_DIR) return { runtimeDir: process.env.BURST_RUNTIME_DIR };
    if (!process.env.LAMBDA_TASK_ROOT) return {};
    const dir = '/tmp/burst-runtime';
    const modules = join(dir, 'node_modules');
    await mkdir(modules, { recursive: true });
    if (existsSync(LAYER_MODULES)) {
      for (const name of await readdir(LAYER_MODULES)) {
        if (name.startsWith('.') || existsSync(join(modules, name))) continue;
        await symlink(join(LAYER_MODULES, name), join(modules, name)).catch(() => undefined);
      }
    }
    return { runtimeDir: dir };
  })();
  return prepared;
}

/** The function's size as the worker processes' shared memory budget, when Lambda says it. */
function memoryBudget(context: LambdaContextLike): { memoryBudgetMB?: number } {
  const mb = Number(context.memoryLimitInMB);
  return Number.isFinite(mb) && mb > 0 ? { memoryBudgetMB: mb } : {};
}
