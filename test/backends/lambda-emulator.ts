/**
 * A local emulator of the AWS Lambda Invoke API, for tests: `POST /2015-03-31/functions/{name}/invocations`
 * with `X-Amz-Invocation-Type: Event` (202, queued), `RequestResponse` (runs and answers) or `DryRun`,
 * and Lambda's error shapes for a missing function (404 `ResourceNotFoundException`) and throttling
 * (429 `TooManyRequestsException`). Each function runs in reusable execution environments: child
 * processes that import the real handler file once and run one invocation at a time, with the
 * environment variables and context object Lambda provides, and are killed at the function timeout.
 *
 * Why our own: serverless-offline, the npm emulator that serves this API over HTTP, is a plugin of the
 * Serverless Framework v4 (its peer dependency), whose CLI requires signing in to a Serverless account
 * and a serverless.yml; lambda-local runs a handler in-process without the HTTP API. This file is the
 * smallest thing that runs our handler for real behind the API the SDK calls. It does not emulate
 * IAM, request signatures, Lambda's memory limit or its internal async queue.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A function deployed on the emulator. */
export interface EmulatedFunction {
  name: string;
  /** Folder with the handler file (`index.js` exporting `handler`). */
  codeDir: string;
  memoryMB: number;
  timeoutS: number;
  /** Execution environments at most (Lambda's concurrency). @default 3 */
  concurrency?: number;
}

/** One invocation the emulator received. */
export interface ReceivedInvocation {
  functionName: string;
  invocationType: string;
  payload: string;
  /** The HTTP status it was answered with. */
  status: number;
}

interface Env {
  child: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
  stream: string;
}

interface Queued {
  requestId: string;
  payload: string;
  done: (r: { ok: boolean; result?: unknown; error?: unknown }) => void;
}

interface Deployed {
  fn: EmulatedFunction;
  envs: Env[];
  queue: Queued[];
}

const RUNTIME = fileURLToPath(new URL('./lambda-emulator-runtime.mjs', import.meta.url));
const REGION = 'us-east-1';

/** The emulator; see the file header. */
export class LambdaEmulator {
  readonly received: ReceivedInvocation[] = [];
  /** Answer the next n invocations with 429 TooManyRequestsException. */
  throttleNext = 0;
  /** What the functions printed (their "CloudWatch"). */
  readonly logs: string[] = [];
  private server: Server | undefined;
  private readonly functions = new Map<string, Deployed>();
  private readonly scratch = mkdtempSync(join(tmpdir(), 'burst-lambda-emulator-'));
  private running = 0;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this.url;
  }

  deploy(fn: EmulatedFunction): void {
    this.functions.set(fn.name, { fn, envs: [], queue: [] });
  }

  /** Invocations queued or running. */
  get pending(): number {
    let n = this.running;
    for (const d of this.functions.values()) n += d.queue.length;
    return n;
  }

  async stop(): Promise<void> {
    for (const d of this.functions.values()) {
      d.queue.length = 0;
      for (const e of d.envs) e.child.kill('SIGKILL');
      d.envs.length = 0;
    }
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const payload = Buffer.concat(chunks).toString('utf8');
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?|$)/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m)
      return this.error(res, 404, 'UnknownOperationException', `not emulated: ${req.method} ${req.url}`);
    const name = decodeURIComponent(m[1] as string).replace(/^arn:aws:lambda:[^:]+:\d+:function:/, '');
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const answer = (status: number): number => (
      this.received.push({ functionName: name, invocationType: type, payload, status }), status
    );
    if (this.throttleNext > 0) {
      this.throttleNext--;
      answer(429);
      res.setHeader('Retry-After', '1');
      return this.error(res, 429, 'TooManyRequestsException', 'Rate Exceeded.', {
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      });
    }
    const d = this.functions.get(name);
    if (!d) {
      answer(404);
      return this.error(
        res,
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${REGION}:000000000000:function:${name}`,
      );
    }
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    if (type === 'DryRun') return void res.writeHead(answer(204)).end();
    if (type === 'Event') {
      this.enqueue(d, { requestId, payload, done: () => {} });
      return void res.writeHead(answer(202)).end();
    }
    const r = await new Promise<{ ok: boolean; result?: unknown; error?: unknown }>((done) =>
      this.enqueue(d, { requestId, payload, done }),
    );
    res.setHeader('Content-Type', 'application/json');
    if (!r.ok) res.setHeader('X-Amz-Function-Error', 'Unhandled');
    res.writeHead(answer(200)).end(JSON.stringify(r.ok ? r.result : r.error));
  }

  private error(
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': type });
    res.end(JSON.stringify({ Type: 'User', message, ...extra }));
  }

  private enqueue(d: Deployed, q: Queued): void {
    d.queue.push(q);
    this.dispatch(d);
  }

  /** Hands queued invocations to idle environments, starting new ones up to the concurrency. */
  private dispatch(d: Deployed): void {
    while (d.queue.length > 0) {
      let env = d.envs.find((e) => !e.busy);
      if (!env && d.envs.length < (d.fn.concurrency ?? 3)) env = this.startEnv(d);
      if (!env) return;
      const q = d.queue.shift() as Queued;
      void this.run(d, env, q);
    }
  }

  private startEnv(d: Deployed): Env {
    const stream = `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomUUID().replace(/-/g, '')}`;
    const child = fork(RUNTIME, [], {
      cwd: d.fn.codeDir,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH,
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        _HANDLER: 'index.handler',
        LAMBDA_EMULATOR_CODE_DIR: d.fn.codeDir,
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_LAMBDA_FUNCTION_NAME: d.fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(d.fn.memoryMB),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${d.fn.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: stream,
        // What the role's session credentials look like to the function; the emulator checks no signature.
        AWS_ACCESS_KEY_ID: 'ASIAEMULATOR',
        AWS_SECRET_ACCESS_KEY: 'emulator-secret',
        AWS_SESSION_TOKEN: 'emulator-token',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // Lambda's task folder is read-only and /tmp is the scratch space; here a folder of our own.
        BURST_RUNTIME_DIR: this.scratch,
      },
    });
    const collect = (b: Buffer): void => void this.logs.push(`${d.fn.name} ${stream}: ${b.toString()}`);
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const env: Env = {
      child,
      busy: false,
      stream,
      ready: new Promise((resolve) => child.once('message', () => resolve())),
    };
    child.once('exit', () => {
      const i = d.envs.indexOf(env);
      if (i >= 0) d.envs.splice(i, 1);
    });
    d.envs.push(env);
    return env;
  }

  private async run(d: Deployed, env: Env, q: Queued): Promise<void> {
    env.busy = true;
    this.running++;
    const deadline = Date.now() + d.fn.timeoutS * 1000;
    try {
      await env.ready;
      const r = await new Promise<{ ok: boolean; result?: unknown; error?: unknown }>((resolve) => {
        const onMessage = (msg: { requestId?: string; ok: boolean; result?: unknown; error?: unknown }): void => {
          if (msg.requestId !== q.requestId) return;
          cleanup();
          resolve(msg);
        };
        const onExit = (): void => (
          cleanup(),
          resolve({
            ok: false,
            error: { errorType: 'Runtime.ExitError', errorMessage: 'the execution environment exited' },
          })
        );
        // Lambda stops a function at its timeout by ending the sandbox.
        const timer = setTimeout(
          () => (
            child.kill('SIGKILL'),
            cleanup(),
            resolve({
              ok: false,
              error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${d.fn.timeoutS} seconds` },
            })
          ),
          d.fn.timeoutS * 1000,
        );
        const child = env.child;
        const cleanup = (): void => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ requestId: q.requestId, event: JSON.parse(q.payload || 'null'), deadline });
      });
      q.done(r);
    } finally {
      env.busy = false;
      this.running--;
      this.dispatch(d);
    }
  }
}
