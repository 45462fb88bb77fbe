/**
 * The modelled AWS Lambda of the fan-out model: the Invoke API the real aws_lambda backend calls
 * (`POST /2015-03-31/functions/{name}/invocations`, `Event` invocations), with the account's
 * concurrency limit answered by 429 TooManyRequestsException, the API's latency, a scale-up rate of
 * new execution environments, and cold/warm start latencies. Each invocation runs the real worker
 * (`runCalls` of src/worker/handler.ts: manifest, inputs, claim, status, through the modelled storage)
 * with the user function's execution modelled in-process: it sleeps the input's `workMs` and returns
 * `resultBytes` bytes. A remote invoker's event (`fanout`) runs its first chunk and invokes the
 * others with the real `invokeAll` (as the Lambda handler does, src/backends/aws_lambda/worker/entry.ts)
 * against this model's accept logic, without HTTP.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { runCalls } from '../../src/worker/handler.ts';
import { chunkCalls, formatCallSpec, parseCallSpec } from '../../src/worker/call-spec.ts';
import { invokeAll } from '../../src/backends/aws_lambda/worker/invoker.ts';
import type { CallRecord, PoolCall } from '../../src/worker/protocol.ts';
import type { StorageDriver } from '../../src/storage/types.ts';
import type { LambdaWorkerEvent } from '../../src/backends/aws_lambda/worker/event.ts';
import { PARAMS, sample } from './params.ts';

/** One execution environment: what a Lambda sandbox keeps between invocations. */
interface Env {
  storage: StorageDriver;
  runtimeDir: string;
}

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
  /** Execution environments waiting for an invocation; each has its own storage client and /tmp. */
  private readonly idle: Env[] = [];
  private envs = 0;
  private scaleTokens: number = PARAMS.lambda.scaleUpPer10s;
  private scaleAt = Date.now();
  private readonly waiting: (() => void)[] = [];

  private readonly limit: number;

  constructor(
    private readonly storage: (envId: number) => StorageDriver,
    private readonly runtimeDir: string,
    overrides: { accountConcurrency?: number } = {},
  ) {
    this.limit = overrides.accountConcurrency ?? PARAMS.lambda.accountConcurrency;
  }

  reset(): void {
    this.counts = emptyCounts();
  }

  /** Execution environments created so far (they stay, idle, between runs). */
  get environments(): number {
    return this.envs;
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
    if (!(await this.accept(Buffer.concat(chunks).toString('utf8')))) {
      res.writeHead(429, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'TooManyRequestsException' });
      return void res.end(
        JSON.stringify({ Type: 'User', message: 'Rate Exceeded.', Reason: 'ConcurrentInvocationLimitExceeded' }),
      );
    }
    res.writeHead(202, { 'x-amzn-RequestId': randomUUID() }).end();
  }

  /**
   * One `Event` invocation: after the API's latency, refused (false: 429) at the account's
   * concurrency, else accepted (true) and run in the background.
   */
  private async accept(payload: string): Promise<boolean> {
    await sleep(sample(PARAMS.lambda.invokeApi));
    if (this.inflight >= this.limit) {
      this.counts.throttled++;
      return false;
    }
    this.inflight++;
    this.counts.peakConcurrency = Math.max(this.counts.peakConcurrency, this.inflight);
    this.counts.accepted++;
    this.counts.lastAcceptedAt = Date.now();
    const event = JSON.parse(payload) as LambdaWorkerEvent;
    void this.runInvocation(event)
      .catch(() => void this.counts.workerErrors++)
      .finally(() => void this.inflight--);
    return true;
  }

  /** An environment for one invocation: a warm idle one, else a new one when the scale-up rate allows. */
  private async environment(): Promise<{ env: Env; cold: boolean }> {
    for (;;) {
      const warm = this.idle.pop();
      if (warm) return { env: warm, cold: false };
      const now = Date.now();
      this.scaleTokens = Math.min(
        PARAMS.lambda.scaleUpPer10s,
        this.scaleTokens + ((now - this.scaleAt) / 10_000) * PARAMS.lambda.scaleUpPer10s,
      );
      this.scaleAt = now;
      if (this.scaleTokens >= 1) {
        this.scaleTokens--;
        const id = this.envs++;
        // A node_modules folder makes the worker keep bundles in this environment's own folder (its /tmp).
        const runtimeDir = join(this.runtimeDir, `env-${id}`);
        mkdirSync(join(runtimeDir, 'node_modules'), { recursive: true });
        return { env: { storage: this.storage(id), runtimeDir }, cold: true };
      }
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private async runInvocation(event: LambdaWorkerEvent): Promise<void> {
    const { env, cold } = await this.environment();
    if (cold) this.counts.coldStarts++;
    else this.counts.warmStarts++;
    await sleep(sample(cold ? PARAMS.lambda.coldStart : PARAMS.lambda.warmStart));
    let callIds = parseCallSpec(event.calls);
    let fanning: Promise<void> = Promise.resolve();
    if (event.fanout) {
      const chunks = chunkCalls(parseCallSpec(event.fanout.calls), event.fanout.chunksize);
      callIds = chunks[0] ?? [];
      fanning = this.fanOut(event, chunks.slice(1));
    }
    try {
      await Promise.all([
        runCalls({
          storage: env.storage,
          bucket: event.bucket,
          jobKey: event.jobKey,
          callIds,
          attempt: event.attempt,
          runtimeDir: env.runtimeDir,
          keepJob: true, // as the Lambda entry does
          runInProcess: (_job, calls, onRecord) => this.execute(calls, cold, onRecord),
        }),
        fanning,
      ]);
    } finally {
      this.idle.push(env);
      this.waiting.shift()?.();
    }
  }

  /**
   * The remote invoker: one invocation per chunk with the backend's own `invokeAll` (its lanes,
   * throttling backoff and retries), whose client reaches {@link accept} directly. It runs inside a
   * Lambda in production, so its requests' CPU is not this process's: each costs the modelled
   * {@link PARAMS.lambda.invokerCpuMs} of the invoker's time instead.
   */
  private async fanOut(event: LambdaWorkerEvent, chunks: number[][]): Promise<void> {
    const f = event.fanout;
    if (!f || chunks.length === 0) return;
    const { fanout: _drop, ...base } = event;
    const client = {
      send: async (command: { input: { Payload?: Uint8Array } }): Promise<object> => {
        await sleep(PARAMS.lambda.invokerCpuMs);
        if (await this.accept(Buffer.from(command.input.Payload ?? []).toString('utf8'))) return { StatusCode: 202 };
        throw Object.assign(new Error('Rate Exceeded.'), {
          name: 'TooManyRequestsException',
          $metadata: { httpStatusCode: 429 },
        });
      },
    };
    const failed = await invokeAll(
      chunks.map((ids) => JSON.stringify({ ...base, calls: formatCallSpec(ids) } satisfies LambdaWorkerEvent)),
      {
        client: client as never,
        InvokeCommand: class {
          constructor(readonly input: object) {}
        } as never,
        functionName: f.functionName,
        concurrency: f.concurrency,
      },
    );
    this.counts.workerErrors += failed.length;
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
