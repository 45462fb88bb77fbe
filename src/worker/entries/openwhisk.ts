/**
 * `burst worker openwhisk`: the worker image as an Apache OpenWhisk blackbox (Docker) action. It speaks
 * the action protocol the invoker drives: `POST /init` once (a blackbox action carries no code; its
 * `value.env` holds the action's init parameters, e.g. `BURST_STORAGE_CONFIG`), then `POST /run` once
 * per activation, one at a time, with `{value, activation_id, action_name, namespace, deadline, …}`;
 * the `__OW_*` variables are set from those fields for the activation. `value` names the calls:
 * `{bucket, jobKey, calls, attempt}`; the answer is `{succeeded, failed}` (200) or `{error}` (502),
 * and each activation's output ends with the sentinel lines the invoker collects logs up to.
 *
 * The storage comes from the container (its environment or the init parameters), never from an
 * activation's parameters, which whoever may invoke the action chooses. Calls still running when the
 * activation's deadline is 5 s away are aborted, so they get `cancelled` statuses before the invoker
 * kills the container.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CancelledError, ConfigError } from '../../errors.js';
import type { StorageConfig } from '../../storage/types.js';
import type { CallLocation } from '../protocol.js';
import { parseCallSpec } from '../call-spec.js';
import { parseStorageConfig } from '../storage-config.js';

/** The sentinel the OpenWhisk invoker reads each activation's logs up to. */
export const OW_LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
/** Margin before an activation's deadline at which running calls are aborted, in ms. */
const DEADLINE_MARGIN_MS = 5000;
const MAX_BODY = 1024 * 1024;

/** Options of {@link serveOpenWhisk}. */
export interface OpenWhiskServeOptions {
  /** TCP port. @default Number($PORT) or 8080 (the port the invoker calls) */
  port?: number;
  /** Address to listen on. @default '0.0.0.0' */
  host?: string;
  /** Worker processes per activation. @default Number($BURST_WORKERS) or 1 */
  workers?: number;
  /** Writes one line per event. @default stderr */
  log?: (line: string) => void;
}

/** A running action container. */
export interface OpenWhiskServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The calls one activation runs (its `value`). */
interface RunParams {
  bucket: string;
  jobKey: string;
  callIds: number[];
  attempt: number;
}

/** Starts the action server; resolves once it listens. */
export async function serveOpenWhisk(o: OpenWhiskServeOptions = {}): Promise<OpenWhiskServer> {
  const log = o.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
  let initialized = false;
  let busy = false;
  const initEnv: Record<string, string> = {};
  const server = createServer((req, res) => {
    void route(req, res).catch((err: unknown) => reply(res, 502, { error: (err as Error).message }));
  });
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || (path !== '/init' && path !== '/run'))
      return reply(res, 404, {
        error: `no such endpoint ${req.method} ${path}; the invoker calls POST /init and POST /run`,
      });
    const body = await readJson(req);
    if (path === '/init') {
      if (initialized) return reply(res, 403, { error: 'Cannot initialize the action more than once.' });
      initialized = true;
      const env = (body.value as { env?: unknown } | undefined)?.env;
      if (env && typeof env === 'object')
        for (const [k, v] of Object.entries(env)) if (typeof v === 'string') initEnv[k] = v;
      return reply(res, 200, { ok: true });
    }
    if (!initialized) return reply(res, 502, { error: 'the action was not initialized (POST /init first)' });
    if (busy) return reply(res, 503, { error: 'this container runs one activation at a time' });
    busy = true;
    try {
      const result = await activation(body, initEnv, o.workers ?? Number(process.env.BURST_WORKERS ?? 1), log);
      reply(res, 'error' in result ? 502 : 200, result);
    } finally {
      busy = false;
      // The invoker reads an activation's logs up to this line on both streams.
      process.stdout.write(`${OW_LOG_SENTINEL}\n`);
      process.stderr.write(`${OW_LOG_SENTINEL}\n`);
    }
  }
  const port = o.port ?? Number(process.env.PORT ?? 8080);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, o.host ?? '0.0.0.0', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  log(`burst worker openwhisk: listening on ${actual}`);
  const stop = (): void => void server.close();
  process.once('SIGTERM', stop);
  return {
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        process.off('SIGTERM', stop);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Runs one activation's calls; never throws. */
async function activation(
  body: Record<string, unknown>,
  initEnv: Record<string, string>,
  workers: number,
  log: (line: string) => void,
): Promise<{ succeeded: number; failed: number; cancelled?: number } | { error: string }> {
  const text = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
  // What an action sees of its activation: the protocol's fields as __OW_* variables.
  for (const k of ['activation_id', 'action_name', 'namespace', 'deadline', 'api_key', 'api_host', 'transaction_id'])
    if (text(k)) process.env[`__OW_${k.toUpperCase()}`] = text(k);
  let params: RunParams;
  let storage: StorageConfig;
  try {
    params = runParams(body.value);
    const config = initEnv.BURST_STORAGE_CONFIG ?? process.env.BURST_STORAGE_CONFIG;
    if (!config)
      throw new ConfigError(
        'the action has no storage: set BURST_STORAGE_CONFIG (an init parameter or the image env)',
        {
          keyPath: 'BURST_STORAGE_CONFIG',
        },
      );
    storage = parseStorageConfig(config, 'BURST_STORAGE_CONFIG');
  } catch (err) {
    return { error: (err as Error).message };
  }
  const activationId = text('activation_id');
  const location: CallLocation = {
    platform: 'openwhisk',
    activationId,
    action: text('action_name'),
    text: `wsk activation logs ${activationId}`,
  };
  const controller = new AbortController();
  const deadline = Number(text('deadline'));
  const timer =
    Number.isFinite(deadline) && deadline > 0
      ? setTimeout(
          () =>
            controller.abort(
              new CancelledError(`cancelled: the OpenWhisk activation ${activationId} reached its deadline`),
            ),
          Math.max(0, deadline - Date.now() - DEADLINE_MARGIN_MS),
        )
      : undefined;
  const [{ openStorageConfig }, { runCalls }] = await Promise.all([
    import('../../storage/index.js'),
    import('../handler.js'),
  ]);
  try {
    const driver = await openStorageConfig(storage);
    try {
      const signingKey = initEnv.BURST_SIGNING_KEY ?? process.env.BURST_SIGNING_KEY;
      return await runCalls({
        storage: driver,
        ...params,
        workers,
        location,
        signal: controller.signal,
        ...(signingKey ? { signingKey } : {}),
      });
    } finally {
      await driver.close?.();
    }
  } catch (err) {
    log(`burst worker openwhisk: activation ${activationId} failed: ${(err as Error).message}`);
    return { error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** The activation's `value`, checked. */
function runParams(value: unknown): RunParams {
  const v = (value ?? {}) as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new ConfigError(`the activation's parameters need ${what}`, { keyPath: 'value' });
  };
  if (typeof v.jobKey !== 'string' || !v.jobKey) bad('"jobKey" (a job key in storage)');
  if (typeof v.calls !== 'string' || !v.calls) bad('"calls" (e.g. "0-9")');
  const attempt = v.attempt === undefined ? 1 : Number(v.attempt);
  if (!Number.isInteger(attempt) || attempt < 1) bad('"attempt" to be a positive integer');
  return {
    bucket: typeof v.bucket === 'string' && v.bucket ? v.bucket : 'burst',
    jobKey: v.jobKey as string,
    callIds: parseCallSpec(v.calls as string),
    attempt,
  };
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) parts.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return reject(new ConfigError(`request body over ${MAX_BODY} bytes`, { keyPath: 'body' }));
      try {
        const text = Buffer.concat(parts).toString('utf8');
        const parsed: unknown = text ? JSON.parse(text) : {};
        resolve(parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {});
      } catch {
        reject(new ConfigError('the request body is not JSON', { keyPath: 'body' }));
      }
    });
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
