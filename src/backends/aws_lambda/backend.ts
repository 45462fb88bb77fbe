/**
 * The AWS Lambda backend: each chunk of `chunksize` calls is one asynchronous invocation
 * (`InvocationType: 'Event'`) of the Burst worker function that `burst runtime deploy` created; the
 * worker reads the job from S3 and writes results back, like every backend. With `remoteInvoker`,
 * a large map is one invocation that invokes the rest from inside AWS.
 *
 * Retries belong to Burst: the SDK does not retry `Invoke` (a retried request that had in fact been
 * accepted would run the calls twice) and the function is deployed with Lambda's own async retries
 * off. Throttling is backed off and re-queued, never a failure.
 *
 * What it leaves out: Lambda cannot say whether an asynchronous invocation is running, so a call
 * killed by Lambda (timeout, memory) is reported only after its deadline: the invocation's time plus
 * the longest it may wait in Lambda's queue (`maxEventAge`) plus the function timeout. Calls that
 * already run cannot be stopped by `cancel`/`close`; queued invocations are not sent.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BurstError, CancelledError, ConfigError } from '../../errors.js';
import { storageCapabilitiesOf, storageDefinition } from '../../storage/registry.js';
import type { StorageConfig } from '../../storage/types.js';
import { chunkCalls, formatCallSpec } from '../../worker/call-spec.js';
import { LAMBDA_EVENT_VERSION, type LambdaWorkerEvent } from './worker/event.js';
import { FatalInvokeError, invokeAll, type InvokeCounters } from './worker/invoker.js';
import {
  functionNameFor,
  lambdaMemory,
  resolveLambdaOptions,
  type AwsLambdaOptions,
  type ResolvedLambdaOptions,
} from './options.js';
import type { BackendContext, ComputeBackend, JobDescriptor, LostCallInfo } from '../types.js';
import { RuntimeMissingError } from '../invocation-error.js';

export type { AwsLambdaOptions } from './options.js';
export { RuntimeMissingError } from '../invocation-error.js';

/** Creates the AWS Lambda backend. */
export function awsLambda(options: AwsLambdaOptions, context: BackendContext): ComputeBackend {
  return new AwsLambdaBackend(resolveLambdaOptions(options as Record<string, unknown>), context);
}

interface Handle {
  client: LambdaClient;
  InvokeCommand: typeof InvokeCommand;
  destroy(): void;
}

/** When a call was invoked, or why it could not be. */
interface Placement {
  at: number;
  /** Seconds after `at` by which a status must exist. */
  deadlineS: number;
  failed?: string;
}

/** Slack for clocks and the status write after the function's last second. */
const SLACK_S = 30;

class AwsLambdaBackend implements ComputeBackend {
  readonly name = 'aws_lambda';
  /** Invoke requests sent, throttled and retried (read by `fexec.counters()`). */
  readonly counters: InvokeCounters = { invokes: 0, throttled: 0, retried: 0 };
  private handle: Promise<Handle> | undefined;
  private readonly placements = new Map<string, Placement>();
  private readonly aborts = new Map<string, AbortController>();
  private closed = false;

  constructor(
    private readonly o: ResolvedLambdaOptions,
    context: BackendContext,
  ) {
    if (storageCapabilitiesOf(context.storage)?.local === true) {
      throw new ConfigError(`the ${context.storage.driver} storage is not reachable from AWS Lambda: use "s3"`, {
        backend: 'aws_lambda',
        keyPath: 'storage',
      });
    }
  }

  private client(): Promise<Handle> {
    this.handle ??= (async () => {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const sdk = await import('@aws-sdk/client-lambda');
      const agent = { keepAlive: true, maxSockets: this.o.invokeConcurrency };
      const httpAgent = new HttpAgent(agent);
      const httpsAgent = new HttpsAgent(agent);
      const client = new sdk.LambdaClient({
        maxAttempts: 1, // see the file header: Burst owns the retries of Invoke
        ...(this.o.region ? { region: this.o.region } : {}),
        ...(this.o.profile ? { profile: this.o.profile } : {}),
        ...(this.o.endpoint ? { endpoint: this.o.endpoint } : {}),
        requestHandler: { httpAgent, httpsAgent },
      });
      return {
        client,
        InvokeCommand: sdk.InvokeCommand,
        destroy: () => (client.destroy(), httpAgent.destroy(), httpsAgent.destroy()),
      };
    })();
    return this.handle;
  }

  async invoke(job: JobDescriptor, callIds: readonly number[], attempt: number): Promise<void> {
    if (this.closed)
      throw new CancelledError('the aws_lambda backend is closed', { backend: 'aws_lambda', jobId: job.jobId });
    if (job.timeoutSeconds > this.o.functionTimeout) {
      throw new ConfigError(
        `timeout ${job.timeoutSeconds} s is longer than the Lambda function timeout of ${this.o.functionTimeout} s (aws_lambda.functionTimeout, at most 900): Lambda would stop the call first`,
        { backend: 'aws_lambda', keyPath: 'timeout' },
      );
    }
    const memoryMB = lambdaMemory(job.runtimeMemoryMB, this.o);
    const functionName = functionNameFor(this.o, memoryMB);
    const base = {
      burst: LAMBDA_EVENT_VERSION,
      storage: this.eventStorage(job.storage),
      bucket: job.bucket,
      jobKey: job.jobKey,
      attempt,
    };
    const chunks = chunkCalls(callIds, job.chunksize);
    const fanout = chunks.length > 1 && callIds.length >= this.o.remoteInvoker;
    const events: LambdaWorkerEvent[] = fanout
      ? [
          {
            ...base,
            calls: formatCallSpec(chunks[0] ?? []),
            fanout: {
              calls: formatCallSpec(callIds),
              chunksize: job.chunksize,
              functionName,
              concurrency: this.o.invokeConcurrency,
              ...(this.o.endpoint ? { endpoint: this.o.endpoint } : {}),
            },
          },
        ]
      : chunks.map((ids) => ({ ...base, calls: formatCallSpec(ids) }));
    // A call may start as late as maxEventAge after its invocation, and run until the function
    // timeout; through a remote invoker, that twice over.
    const deadlineS = (this.o.maxEventAge + this.o.functionTimeout) * (fanout ? 2 : 1) + SLACK_S;
    const at = Date.now();
    for (const id of callIds) this.placements.set(`${job.jobKey}/${id}`, { at, deadlineS });
    const abort = this.aborts.get(job.jobKey) ?? new AbortController();
    this.aborts.set(job.jobKey, abort);
    const h = await this.client();
    let failures: Awaited<ReturnType<typeof invokeAll>>;
    try {
      failures = await invokeAll(
        events.map((e) => JSON.stringify(e)),
        {
          client: h.client,
          InvokeCommand: h.InvokeCommand,
          functionName,
          concurrency: this.o.invokeConcurrency,
          signal: abort.signal,
          counters: this.counters,
        },
      );
    } catch (err) {
      for (const id of callIds) this.placements.delete(`${job.jobKey}/${id}`);
      throw this.invokeError(err instanceof FatalInvokeError ? err.error : err, functionName, memoryMB, job);
    }
    for (const { index, error } of failures) {
      const ids = fanout ? callIds : (chunks[index] ?? []);
      const failed = `Lambda did not accept the invocation of ${functionName}: ${(error as Error)?.message ?? String(error)}`;
      for (const id of ids) this.placements.set(`${job.jobKey}/${id}`, { at, deadlineS, failed });
    }
  }

  /** The storage configuration as the function should see it (see {@link AwsLambdaOptions.storageCredentials}). */
  private eventStorage(config: StorageConfig): StorageConfig {
    const forCloud = storageDefinition(config.driver)?.forCloudFunction;
    return forCloud
      ? { ...config, options: forCloud(config.options as never, this.o.storageCredentials === 'role') }
      : config;
  }

  private invokeError(err: unknown, functionName: string, memoryMB: number, job: JobDescriptor): BurstError {
    const e = err as { name?: string; message?: string };
    const region = this.o.region ?? 'the configured region';
    if (e?.name === 'ResourceNotFoundException') {
      const fix = this.o.functionName
        ? `deploy it, or fix aws_lambda.functionName`
        : `run "npx burst runtime deploy --backend aws_lambda --memory ${memoryMB}${this.o.runtime === 'default' ? '' : ` ${this.o.runtime}`}" with this configuration first (it creates the Burst worker function for runtime "${this.o.runtime}", ${memoryMB} MB)`;
      return new RuntimeMissingError(
        functionName,
        `the AWS Lambda function "${functionName}" does not exist in ${region}: ${fix}`,
        { cause: err, jobId: job.jobId },
      );
    }
    return new BurstError(
      'SUBMIT_REJECTED',
      `AWS Lambda rejected job ${job.jobId} (function ${functionName}): ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`,
      { backend: 'aws_lambda', jobId: job.jobId, cause: err },
    );
  }

  async lostCalls(job: JobDescriptor, callIds: readonly number[]): Promise<Map<number, LostCallInfo>> {
    const lost = new Map<number, LostCallInfo>();
    const now = Date.now();
    const functionName = functionNameFor(this.o, lambdaMemory(job.runtimeMemoryMB, this.o));
    for (const id of callIds) {
      const p = this.placements.get(`${job.jobKey}/${id}`);
      if (!p) continue;
      if (p.failed) lost.set(id, { state: 'INVOKE_FAILED', reason: p.failed });
      else if (now > p.at + p.deadlineS * 1000) {
        lost.set(id, {
          state: 'TIMEOUT',
          reason: `no status ${p.deadlineS} s after the invocation: Lambda stopped the function (timeout of ${this.o.functionTimeout} s, or out of memory) or dropped the event after ${this.o.maxEventAge} s in its queue; see CloudWatch log group /aws/lambda/${functionName}`,
        });
      }
    }
    return lost;
  }

  async cancel(job: JobDescriptor): Promise<void> {
    this.aborts
      .get(job.jobKey)
      ?.abort(new CancelledError(`job ${job.jobId} was cancelled`, { backend: 'aws_lambda', jobId: job.jobId }));
    this.aborts.delete(job.jobKey);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const a of this.aborts.values())
      a.abort(new CancelledError('the executor was closed', { backend: 'aws_lambda' }));
    this.aborts.clear();
    this.placements.clear();
    const h = this.handle;
    this.handle = undefined;
    if (h) (await h.catch(() => undefined))?.destroy();
  }
}
