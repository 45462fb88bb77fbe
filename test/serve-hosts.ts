/**
 * Three network namespaces as three hosts (scripts/services/serve-hosts.sh) and `burst worker serve`
 * processes started inside them, for the tests of the HTTP backends. A serve process in a namespace
 * reaches the Ceph gateway at the bridge's host end (10.78.0.1), never at the host's 127.0.0.1.
 *
 * Serve processes run the built CLI (dist/cli/main.js, as on a real image): `npm run build` first
 * (`npm test` does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensure, type Skipped } from './services.ts';

/** The namespaces and their addresses. */
export interface ServeHosts {
  /** Namespace names, e.g. `burst-s1`; also the BURST_HOSTNAME of their serve processes. */
  hosts: string[];
  /** The address of each host, in the same order. */
  addrs: string[];
  /** The bridge's host end: how a process in a namespace reaches this host (and the Ceph gateway). */
  hostAddr: string;
}

let hosts: Promise<ServeHosts | Skipped> | undefined;

/** Creates (if needed) the three namespaces; see the file header. */
export function ensureServeHosts(): Promise<ServeHosts | Skipped> {
  hosts ??= ensure('serve-hosts.sh').then((r) => {
    if ('skip' in r) return r;
    const v = (name: string): string => {
      const value = r.vars[name];
      if (!value) throw new Error(`serve-hosts.sh env: ${name} missing`);
      return value;
    };
    return {
      hosts: v('BURST_TEST_SERVE_HOSTS').split(','),
      addrs: v('BURST_TEST_SERVE_ADDRS').split(','),
      hostAddr: v('BURST_TEST_SERVE_HOST_ADDR'),
    };
  });
  return hosts;
}

/** A `burst worker serve` process we started. */
export interface ServeProcess {
  /** The URL the backend posts to, e.g. `http://10.78.0.11:8080`. */
  url: string;
  host: string;
  child: ChildProcess;
  /** What it printed so far (for failure messages). */
  output(): string;
  /** `GET /healthz` as JSON. */
  health(): Promise<{
    ok: boolean;
    inFlight: number;
    concurrency: number;
    served: number;
    rejectedBusy: number;
    rejectedAuth: number;
  }>;
  /** Sends SIGTERM (or `signal`) and waits for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Waits for the exit without sending anything; resolves with the exit code. */
  exited(): Promise<number | null>;
}

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/**
 * Starts `burst worker serve` in namespace `host` (or on this host when `host` is undefined) and
 * waits until it listens. The wait is bounded so a serve that cannot start fails the test with its
 * output instead of stalling it.
 */
export async function startServe(o: {
  host?: string;
  addr: string /** 0 picks a free port. */;
  port: number;
  args?: string[];
  env?: Record<string, string | undefined>;
}): Promise<ServeProcess> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  const command = [process.execPath, cli, 'worker', 'serve', '--port', String(o.port), ...(o.args ?? [])];
  const [file, ...args] = o.host ? ['nsenter', `--net=/run/netns/${o.host}`, ...command] : command;
  const child = spawn(file as string, args, {
    env: { ...process.env, BURST_HOSTNAME: o.host ?? 'localhost', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(
      () => reject(new Error(`burst worker serve in ${o.host ?? 'this host'} did not listen within 30 s:\n${text}`)),
      30_000,
    );
    const check = (): void => {
      if (/listening on/.test(text)) {
        clearTimeout(guard);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(guard);
      reject(new Error(`burst worker serve in ${o.host ?? 'this host'} exited with ${code}:\n${text}`));
    });
  });
  // With port 0 the serve process picks one and prints it.
  const port = o.port || Number(/listening on \S+:(\d+)/.exec(text)?.[1]);
  const url = `http://${o.addr}:${port}`;
  return {
    url,
    host: o.host ?? 'localhost',
    child,
    output: () => text,
    health: async () => (await fetch(`${url}/healthz`)).json() as ReturnType<ServeProcess['health']>,
    exited: () => exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
