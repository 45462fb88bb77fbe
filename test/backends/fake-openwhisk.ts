/**
 * A FAKE Apache OpenWhisk control plane for the openwhisk backend's tests: a controller answering the
 * REST paths Burst calls (actions PUT/GET/DELETE/list, non-blocking invoke, activation records) with
 * basic auth and a namespace limit on activations in flight (over it: 429, as OpenWhisk's throttle
 * answers), and an invoker that runs each blackbox action as real containers of the worker:
 * `burst worker openwhisk` processes from this repository's dist/ (standing for the image), driven
 * as the invoker drives an action container: started with `__OW_API_HOST`, `POST /init` once with the
 * init parameters as `env`, then one `POST /run` at a time with the activation's fields and a
 * deadline; a container still running at the deadline is killed and the activation recorded as
 * "action developer error" with OpenWhisk's time-limit message. Warm containers are reused.
 * What it leaves out: sequences, triggers, rules, packages, the Kafka queue and Docker itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as netServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const DIST_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

type Obj = any;

interface Container {
  child: ChildProcess;
  port: number;
  action: string;
  busy: boolean;
}

export class FakeOpenWhisk {
  private server: Server | undefined;
  readonly actions = new Map<string, Obj>();
  readonly activations = new Map<string, Obj>();
  private readonly containers: Container[] = [];
  private readonly queue: (() => void)[] = [];
  private inFlight = 0;
  /** Invocations answered 429, and activations run. */
  readonly counters = { throttled: 0, runs: 0, inits: 0, containers: 0 };
  url = '';

  constructor(
    readonly auth: string,
    private readonly o: { maxInFlight: number; maxContainers: number },
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const c of this.containers) c.child.kill('SIGKILL');
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: Obj): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Basic ${Buffer.from(this.auth).toString('base64')}`)
      return send(401, { error: 'The supplied authentication is invalid.' });
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(actions|activations)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return send(404, { error: 'The requested resource does not exist.' });
    const [, ns, kind, raw] = m;
    const name = raw ? decodeURIComponent(raw) : undefined;
    const body = await text(req);
    if (kind === 'activations') {
      const a = name ? this.activations.get(name) : undefined;
      return a?.end ? send(200, a) : send(404, { error: 'The requested resource does not exist.' });
    }
    if (!name && req.method === 'GET') return send(200, [...this.actions.values()]);
    if (!name) return send(405, { error: 'method not allowed' });
    if (req.method === 'PUT') {
      const spec = JSON.parse(body);
      const action = { ...spec, name, namespace: ns === '_' ? 'guest' : ns, version: '0.0.1' };
      this.actions.set(name, action);
      return send(200, action);
    }
    const action = this.actions.get(name);
    if (!action) return send(404, { error: 'The requested resource does not exist.' });
    if (req.method === 'GET') return send(200, action);
    if (req.method === 'DELETE') {
      this.actions.delete(name);
      return send(200, action);
    }
    if (req.method === 'POST') {
      if (this.inFlight >= this.o.maxInFlight) {
        this.counters.throttled++;
        return send(429, { error: 'Too many concurrent requests in flight (count: 1, allowed: 1).' });
      }
      const id = randomBytes(16).toString('hex');
      this.activations.set(id, { activationId: id, name, namespace: action.namespace, start: Date.now() });
      this.inFlight++;
      send(202, { activationId: id });
      void this.activate(action, id, body ? JSON.parse(body) : {}).finally(() => this.inFlight--);
      return;
    }
    send(405, { error: 'method not allowed' });
  }

  /** Runs one activation in a warm or new container of the action (the invoker). */
  private async activate(action: Obj, id: string, params: Obj): Promise<void> {
    const record = this.activations.get(id);
    const timeout = action.limits?.timeout ?? 60_000;
    let c: Container;
    try {
      c = await this.container(action);
    } catch (err) {
      record.response = { status: 'whisk internal error', success: false, result: { error: String(err) } };
      record.end = Date.now();
      return;
    }
    this.counters.runs++;
    const deadline = Date.now() + timeout;
    const bound = Object.fromEntries(
      (action.parameters ?? []).filter((p: Obj) => !p.init).map((p: Obj) => [p.key, p.value]),
    );
    const run = post(c.port, '/run', {
      value: { ...params, ...bound },
      activation_id: id,
      action_name: `/${action.namespace}/${action.name}`,
      namespace: action.namespace,
      deadline: String(deadline),
      api_key: this.auth,
      transaction_id: randomBytes(8).toString('hex'),
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeout)));
    const outcome = await Promise.race([run, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      c.child.kill('SIGKILL');
      this.containers.splice(this.containers.indexOf(c), 1);
      record.response = {
        status: 'action developer error',
        success: false,
        result: { error: `The action exceeded its time limits of ${timeout} milliseconds.` },
      };
      this.queue.shift()?.();
    } else {
      const ok = outcome.status === 200;
      record.response = {
        status: ok ? 'success' : 'action developer error',
        success: ok,
        result: outcome.body,
      };
      c.busy = false;
      this.queue.shift()?.();
    }
    record.end = Date.now();
  }

  /** An idle container of the action, or a new one (initialized), or the next one to free up. */
  private async container(action: Obj): Promise<Container> {
    for (;;) {
      const idle = this.containers.find((c) => c.action === action.name && !c.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.containers.length < this.o.maxContainers) break;
      // Full: evict an idle container of another action, as an invoker does, else wait for one to free up.
      const other = this.containers.find((c) => !c.busy);
      if (other) {
        this.containers.splice(this.containers.indexOf(other), 1);
        other.child.kill('SIGKILL');
        break;
      }
      await new Promise<void>((r) => this.queue.push(r));
    }
    const port = await freePort();
    const child = spawn(process.execPath, [DIST_MAIN, 'worker', 'openwhisk'], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), __OW_API_HOST: this.url },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const c: Container = { child, port, action: action.name, busy: true };
    this.containers.push(c);
    this.counters.containers++;
    child.once('exit', () => {
      const i = this.containers.indexOf(c);
      if (i >= 0) this.containers.splice(i, 1);
    });
    const env = Object.fromEntries(
      (action.parameters ?? []).filter((p: Obj) => p.init).map((p: Obj) => [p.key, p.value]),
    );
    for (let i = 0; ; i++) {
      const r = await post(port, '/init', {
        value: { name: action.name, main: 'main', code: '', binary: false, env },
      }).catch(() => undefined);
      if (r) {
        if (r.status !== 200) throw new Error(`init failed: ${JSON.stringify(r.body)}`);
        this.counters.inits++;
        return c;
      }
      if (i > 300) throw new Error('the action container did not listen');
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

function post(port: number, path: string, body: Obj): Promise<{ status: number; body: Obj }> {
  return fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function text(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (d: Buffer) => (s += d.toString()));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}
