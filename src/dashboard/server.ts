/**
 * The dashboard's HTTP server (node:http, no framework): the page at `/`, and a small JSON API that
 * the page polls. It shows job data, logs and errors, so every request must pass two checks (see
 * access.ts): its `Host` header names this machine's loopback (or the configured host), which stops
 * DNS rebinding, and it carries this run's random token, which stops other local users and other
 * web pages. It listens on 127.0.0.1 by default.
 *
 *   GET /?token=T                  sets the token cookie and redirects to /
 *   GET /                          the page
 *   GET /api/jobs                  { storage, bucket, jobs: JobListItem[] }
 *   GET /api/job?job=E/J           JobDetail
 *   GET /api/logs?job=E/J&call=N   { callId, ok, attempt, logs, error } (404 while the call has no record)
 *   GET /api/timeline?job=E/J      the job's timeline, image/svg+xml
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StorageDriver } from '../storage/types.js';
import { checkAccess, newToken, tokenCookie } from './access.js';
import { BurstError } from '../errors.js';
import { DashboardData } from './api.js';
import { PAGE_HTML } from './page.js';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  storage: StorageDriver;
  bucket: string;
  /** A printable description of the storage (never credentials). */
  storageLabel: string;
  /** @default 7777; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * The access token every request must carry (cookie or `Authorization: Bearer`).
   * @default a new random 256-bit token for each run
   */
  token?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** The address to open, with the token: `http://127.0.0.1:7777/?token=…`. */
  url: string;
  /** This run's access token. */
  token: string;
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const data = new DashboardData(o.storage, o.bucket);
  const host = o.host ?? '127.0.0.1';
  const token = o.token ?? newToken();
  let port = 0;
  const server: Server = createServer((req, res) => {
    const denied = checkAccess(req, { host, token, port });
    if (denied) return send(res, denied.status, { error: denied.error });
    const url = new URL(req.url ?? '/', 'http://dashboard');
    // The token arrived in the address: keep it in a cookie and drop it from the address bar.
    if (url.pathname === '/' && url.searchParams.has('token')) {
      res.writeHead(302, { location: '/', 'set-cookie': tokenCookie(port, token), 'cache-control': 'no-store' });
      return res.end();
    }
    handle(req, res, url, data, o).catch((err: unknown) => send(res, 500, { error: describe(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 7777, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  data: DashboardData,
  o: DashboardOptions,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET' });
  const job = url.searchParams.get('job') ?? '';
  try {
    switch (url.pathname) {
      case '/':
        return sendText(res, 200, 'text/html; charset=utf-8', PAGE_HTML);
      case '/api/jobs':
        return send(res, 200, { storage: o.storageLabel, bucket: o.bucket, jobs: await data.jobs(), now: Date.now() });
      case '/api/job':
        return send(res, 200, await data.job(need(job, 'job')));
      case '/api/logs': {
        const call = Number(url.searchParams.get('call'));
        if (!Number.isInteger(call) || call < 0)
          return send(res, 400, { error: 'call must be a non-negative integer' });
        const s = await data.call(need(job, 'job'), call);
        if (!s) return send(res, 404, { error: `call ${call} has no status record yet` });
        return send(res, 200, {
          callId: s.callId,
          ok: s.ok,
          attempt: s.attempt,
          logs: s.logs ?? '',
          error: s.error ?? null,
        });
      }
      case '/api/timeline': {
        const width = Math.min(2000, Math.max(300, Number(url.searchParams.get('width')) || 760));
        return sendText(res, 200, 'image/svg+xml; charset=utf-8', await data.timeline(need(job, 'job'), width));
      }
      default:
        return send(res, 404, { error: `no such page: ${url.pathname}` });
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    return send(res, code === 'NO_SUCH_JOB' ? 404 : code === 'BAD_REQUEST' ? 400 : 500, { error: describe(err) });
  }
}

function need(value: string, name: string): string {
  if (!value) throw new BurstError('BAD_REQUEST', `the ${name} parameter is missing`);
  return value;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
}
