/**
 * Serves the client's {@link LocalStore} to the worker processes of this machine over a Unix socket
 * in a fresh 0700 folder (planned by ./local-endpoint.ts, created here and never trusted if it exists), so the localhost backend's tasks share the client's queues and locks with
 * no Redis. A connection must first send the executor's random token (compared in constant time),
 * so another local user or process that finds the socket cannot use it. Lines of JSON both ways:
 * `{ i, op, a }` → `{ i, ok, v }` or `{ i, ok: false, e }`; bytes travel as `{ $b: base64 }`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import type { PlannedEndpoint } from './local-endpoint.js';
import type { LocalStore } from './local-store.js';
import { fromWire, toWire } from './wire.js';

/** What a worker needs to reach the store: the socket's path and the token. */
export interface LocalEndpoint {
  socket: string;
  token: string;
}

const OPS = new Set([
  'push',
  'pop',
  'length',
  'get',
  'set',
  'incr',
  'acquire',
  'release',
  'extend',
  'arrive',
  'deletePrefix',
]);

/** A listening server for `store`; `close()` stops it and removes its folder. */
export class LocalServer {
  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly endpoint: LocalEndpoint,
    private readonly sockets: Set<Socket>,
  ) {}

  /** Listens at `plan`: its folder is made here, 0700, and an existing one fails the start (EEXIST). */
  static async start(store: LocalStore, plan: PlannedEndpoint): Promise<LocalServer> {
    const { dir, socket: path, token } = plan;
    await mkdir(dir, { mode: 0o700 });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => serve(socket, store, Buffer.from(token), sockets));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    server.unref();
    return new LocalServer(server, dir, { socket: path, token }, sockets);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

function serve(socket: Socket, store: LocalStore, token: Buffer, sockets: Set<Socket>): void {
  sockets.add(socket);
  const gone = new AbortController();
  socket.on('close', () => {
    sockets.delete(socket);
    gone.abort();
  });
  socket.on('error', () => socket.destroy());
  let authed = false;
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    // A peer that never sends a newline must not grow the buffer without bound.
    if (buffered.length > 64 * 1024 * 1024) return socket.destroy();
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!authed) {
        const offered = Buffer.from(line);
        if (offered.length !== token.length || !timingSafeEqual(offered, token)) return socket.destroy();
        authed = true;
      } else handle(line);
      nl = buffered.indexOf('\n');
    }
  });

  function handle(line: string): void {
    let req: { i: number; op: string; a: unknown[] };
    try {
      req = JSON.parse(line) as typeof req;
    } catch {
      return void socket.destroy();
    }
    if (!OPS.has(req.op) || !Array.isArray(req.a))
      return reply({ i: req.i, ok: false, e: `unknown operation ${req.op}` });
    const args = req.a.map(fromWire);
    if (req.op === 'pop') args[2] = gone.signal;
    const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[req.op] as (
      ...a: unknown[]
    ) => Promise<unknown>;
    fn.apply(store, args).then(
      (v) => {
        // A waiter that left while its value was on the way: give the value back to the queue.
        if (socket.destroyed && req.op === 'pop' && v !== undefined)
          void store.push(args[0] as string, v as Uint8Array);
        else reply({ i: req.i, ok: true, v: toWire(v) });
      },
      (err: unknown) => reply({ i: req.i, ok: false, e: err instanceof Error ? err.message : String(err) }),
    );
  }

  function reply(msg: unknown): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`);
  }
}
