/**
 * The {@link PrimitiveStore} of a worker process on the client's machine: every operation goes over
 * the client's Unix socket (./local-server.ts) to its {@link LocalStore}.
 */
import { connect, type Socket } from 'node:net';
import { PrimitiveError } from '../errors.js';
import type { PrimitiveStore } from './store.js';
import type { LocalEndpoint } from './local-server.js';
import { fromWire, toWire } from './wire.js';

/** How long connecting to the client's socket may take before `PRIMITIVES_UNREACHABLE`. */
const CONNECT_MS = 5000;

export class SocketStore implements PrimitiveStore {
  readonly address: string;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private seq = 0;
  private buffered = '';

  private constructor(
    private readonly socket: Socket,
    endpoint: LocalEndpoint,
  ) {
    this.address = `the client's in-process primitives at ${endpoint.socket}`;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('close', () => this.fail(`the connection to ${this.address} closed (did the client exit?)`));
    socket.on('error', () => undefined);
    socket.unref();
  }

  static open(endpoint: LocalEndpoint): Promise<SocketStore> {
    return new Promise((resolve, reject) => {
      const socket = connect(endpoint.socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(unreachable(endpoint, `no answer within ${CONNECT_MS / 1000} s`));
      }, CONNECT_MS);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(unreachable(endpoint, err.message));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.write(`${endpoint.token}\n`);
        resolve(new SocketStore(socket, endpoint));
      });
    });
  }

  push(key: string, value: Uint8Array): Promise<number> {
    return this.call('push', key, value) as Promise<number>;
  }
  pop(key: string, timeoutMs: number | undefined): Promise<Uint8Array | undefined> {
    return this.call('pop', key, timeoutMs) as Promise<Uint8Array | undefined>;
  }
  length(key: string): Promise<number> {
    return this.call('length', key) as Promise<number>;
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.call('get', key) as Promise<Uint8Array | undefined>;
  }
  async set(key: string, value: Uint8Array): Promise<void> {
    await this.call('set', key, value);
  }
  incr(key: string, by: number): Promise<number> {
    return this.call('incr', key, by) as Promise<number>;
  }
  acquire(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.call('acquire', key, token, leaseMs) as Promise<boolean>;
  }
  release(key: string, token: string): Promise<boolean> {
    return this.call('release', key, token) as Promise<boolean>;
  }
  extend(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.call('extend', key, token, leaseMs) as Promise<boolean>;
  }
  arrive(key: string, parties: number): Promise<{ generation: number; last: boolean }> {
    return this.call('arrive', key, parties) as Promise<{ generation: number; last: boolean }>;
  }
  deletePrefix(prefix: string): Promise<number> {
    return this.call('deletePrefix', prefix) as Promise<number>;
  }
  async close(): Promise<void> {
    this.socket.destroy();
  }

  private call(op: string, ...args: unknown[]): Promise<unknown> {
    if (this.socket.destroyed)
      return Promise.reject(
        new PrimitiveError('PRIMITIVES_UNREACHABLE', `${this.address} cannot be reached: the connection is closed`),
      );
    const i = this.seq++;
    // JSON has no undefined: in an array it travels as null, which fromWire turns back.
    const a = args.map(toWire);
    this.socket.write(`${JSON.stringify({ i, op, a })}\n`);
    if (this.pending.size === 0) this.socket.ref();
    return new Promise((resolve, reject) => this.pending.set(i, { resolve, reject }));
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let nl = this.buffered.indexOf('\n');
    while (nl >= 0) {
      const msg = JSON.parse(this.buffered.slice(0, nl)) as { i: number; ok: boolean; v?: unknown; e?: string };
      this.buffered = this.buffered.slice(nl + 1);
      const p = this.pending.get(msg.i);
      this.pending.delete(msg.i);
      if (this.pending.size === 0) this.socket.unref();
      if (msg.ok) p?.resolve(fromWire(msg.v));
      else p?.reject(new PrimitiveError('PRIMITIVES_UNREACHABLE', `${this.address} failed: ${msg.e}`));
      nl = this.buffered.indexOf('\n');
    }
  }

  private fail(why: string): void {
    for (const p of this.pending.values()) p.reject(new PrimitiveError('PRIMITIVES_UNREACHABLE', why));
    this.pending.clear();
  }
}

function unreachable(endpoint: LocalEndpoint, why: string): PrimitiveError {
  return new PrimitiveError(
    'PRIMITIVES_UNREACHABLE',
    `the client's in-process primitives at ${endpoint.socket} cannot be reached: ${why} (they serve only tasks on the client's machine; set redis: { url } for other backends)`,
  );
}
