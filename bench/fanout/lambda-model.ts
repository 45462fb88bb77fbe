/**
 * The modelled AWS Lambda of the fan-out model: the Invoke API the real aws_lambda backend calls
 * (`POST /2015-03-31/functions/{name}/invocations`, `Event` invocations), with the account's
 * concurrency limit answered by 429 TooManyRequestsException, the API's latency, a scale-up rate of
 * new execution environments, and cold/warm start latencies. Each invocation runs the real worker
 * (`runCalls` of src/worker/handler.ts: manifest, inputs, claim, status, through the modelled storage)
 * with the user function's execution modelled in-process: it sleeps the input's `workMs` and returns
 * `resultBytes` bytes. The remote invoker (event.fanout) is not modelled.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { runCalls } from '../../src/worker/handler.ts';
import { parseCallSpec } from '../../src/worker/call-spec.ts';
import type { CallRecord, PoolCall } from '../../src/worker/protocol.ts';
import type { StorageDriver } from '../../src/storage/types.ts';
import type { LambdaWorkerEvent } from '../../src/backends/aws_lambda/worker/event.ts';
import { PARAMS, sample } from './params.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the model's function does with one input. */
export interface ModelInput {
  workMs: number;
  resultBytes: number;
}

/** Counters of one run. */
export interface LambdaCounts {
  accepted: number;
  throttled: number;
  coldStarts: number;
  warmStarts: number;
  /** Epoch ms of the last accepted invocation. */
  lastAcceptedAt: number;
  /** Epoch ms at which the last call's function started. */
  lastFnStartAt: number;
  peakConcurrency: number;
  workerErrors: number;
}

const emptyCounts = (): LambdaCounts => ({
  accepted: 0,
  throttled: 0,
  coldStarts: 0,
  warmStarts: 0,
  lastAcceptedAt: 0,
  lastFnStartAt: 0,
  peakConcurrency: 0,
  workerErrors: 0,
});

export class LambdaModel {
  counts = emptyCounts();
  /** Accepted invocations not finished: what the concurrency limit counts. */
  private inflight = 0;
  private idle = 0;
  private envs = 0;
  private scaleTokens: number = PARAMS.lambda.scaleUpPer10s;
  private scaleAt = Date.now();
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly storage: StorageDriver,
    private readonly runtimeDir: string,
  ) {}

  reset(): void {
    this.counts = emptyCounts();
  }

  async start(): Promise<{ url: string; server: Server }> {
    const server = createServer((req, res) => void this.route(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    await sleep(sample(PARAMS.lambda.invokeApi));
    if (this.inflight >= PARAMS.lambda.accountConcurrency) {
      this.counts.throttled++;
      res.writeHead(429, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'TooManyRequestsException' });
      return void res.end(JSON.stringify({ Type: 'User', message: 'Rate Exceeded.', Reason: 'ConcurrentInvocationLimitExceeded' }));
    }
    this.inflight++;
    this.counts.peakConcurrency = Math.max(this.counts.peakConcurrency, this.inflight);
    this.counts.accepted++;
    this.counts.lastAcceptedAt = Date.now();
    res.writeHead(202, { 'x-amzn-RequestId': randomUUID() }).end();
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as LambdaWorkerEvent;
    try {
      await this.runInvocation(event);
    } catch {
      this.counts.workerErrors++;
    } finally {
      this.inflight--;
    }
  }

  /** An environment for one invocation: a warm idle one, else a new one when the scale-up rate allows. */
  private async environment(): Promise<boolean> {
    for (;;) {
      if (this.idle > 0) {
        this.idle--;
        return false;
      }
      const now = Date.now();
      this.scaleTokens = Math.min(
        PARAMS.lambda.scaleUpPer10s,
        this.scaleTokens + ((now - this.scaleAt) / 10_000) * PARAMS.lambda.scaleUpPer10s,
      );
      this.scaleAt = now;
      if (this.scaleTokens >= 1) {
        this.scaleTokens--;
        this.envs++;
        return true;
      }
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private async runInvocation(event: LambdaWorkerEvent): Promise<void> {
    const cold = await this.environment();
    if (cold) this.counts.coldStarts++;
    else this.counts.warmStarts++;
    await sleep(sample(cold ? PARAMS.lambda.coldStart : PARAMS.lambda.warmStart));
    try {
      await runCalls({
        storage: this.storage,
        bucket: event.bucket,
        jobKey: event.jobKey,
        callIds: parseCallSpec(event.calls),
        attempt: event.attempt,
        runtimeDir: this.runtimeDir,
        runInProcess: (_job, calls, onRecord) => this.execute(calls, cold, onRecord),
      });
    } finally {
      this.idle++;
      this.waiting.shift()?.();
    }
  }

  /** The user function, modelled: sleeps `workMs`, returns `resultBytes` bytes. */
  private async execute(calls: PoolCall[], cold: boolean, onRecord: (r: CallRecord) => void): Promise<Set<number>> {
    const done = new Set<number>();
    const workerStart = Date.now();
    for (const c of calls) {
      const input = c.input as ModelInput;
      const fnStart = Date.now();
      this.counts.lastFnStartAt = Math.max(this.counts.lastFnStartAt, fnStart);
      await sleep(input.workMs);
      onRecord({
        callId: c.callId,
        ok: true,
        attempt: c.attempt,
        value: 'x'.repeat(input.resultBytes),
        stats: {
          workerStart,
          fnStart,
          fnEnd: Date.now(),
          cold,
          bytesIn: 0,
          bytesOut: 0,
          hostname: 'lambda-model',
          pid: process.pid,
        },
      });
      done.add(c.callId);
    }
    return done;
  }
}
