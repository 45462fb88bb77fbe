/**
 * A FAKE Kubernetes control plane for the k8s backend's tests: an HTTP server answering the few
 * API paths the backend calls (create/list/delete Jobs, list pods) for the real `@kubernetes/client-node`,
 * and a fake kubelet that runs each pod of an Indexed Job as a real process of the worker: `burst
 * worker job` from this repository's dist/ (standing for the image), or the real image under podman.
 * It drives the worker as a kubelet does: the pod's env (literal values, fieldRef, secretKeyRef) plus
 * JOB_COMPLETION_INDEX and HOSTNAME, SIGTERM then SIGKILL after the grace period when the Job is
 * deleted, the container's exit code in the pod's status, and the memory limit enforced by killing the
 * pod (SIGKILL, reason OOMKilled, exit code 137) when its processes' resident memory passes it.
 * Images it cannot run are `ImagePullBackOff`. What it leaves out: scheduling, nodes, TTL, watches.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** How the fake kubelet runs an image: as this repository's dist (`process`), or under podman. */
export type FakeImage = 'process' | 'podman';

type Obj = any;

interface FakePod {
  obj: Obj;
  child?: ChildProcess;
  oom?: boolean;
  logs: string;
}

interface FakeJob {
  obj: Obj;
  pods: FakePod[];
  next: number;
  deleted: boolean;
}

export class FakeKubernetes {
  private server: Server | undefined;
  private readonly jobs = new Map<string, FakeJob>();
  /** Secrets by `<ns>/<name>`: key → value. */
  readonly secrets = new Map<string, Record<string, string>>();
  /** Every pod ever started, for assertions. */
  readonly started: { name: string; index: number; env: Record<string, string>; exitCode?: number }[] = [];
  url = '';

  constructor(
    private readonly images: Record<string, FakeImage>,
    /** Extra `podman run` arguments (e.g. `--user` for OpenShift's arbitrary UID). */
    private readonly podmanArgs: string[] = [],
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig file for the real client, pointing at this server. */
  async kubeconfig(dir: string): Promise<string> {
    const file = join(dir, 'kubeconfig');
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'fake', user: { token: 'fake-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: 'default' } }],
        'current-context': 'fake',
      }),
    );
    return file;
  }

  async stop(): Promise<void> {
    for (const j of this.jobs.values()) this.terminate(j, 0);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
  }

  /** Jobs currently stored, by name. */
  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  job(name: string): Obj | undefined {
    return this.jobs.get(name)?.obj;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: Obj): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const selector = url.searchParams.get('labelSelector') ?? '';
    const matches = (labels: Record<string, string> = {}): boolean =>
      selector
        .split(',')
        .filter(Boolean)
        .every((kv) => {
          const [k, v] = kv.split('=');
          return labels[k as string] === v;
        });
    let m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(url.pathname);
    if (m) {
      const [, ns, name] = m;
      if (req.method === 'POST' && !name) {
        const body = JSON.parse(await text(req));
        if (this.jobs.has(body.metadata.name)) return send(409, { kind: 'Status', reason: 'AlreadyExists' });
        body.metadata.namespace = ns;
        body.metadata.uid = randomBytes(8).toString('hex');
        body.metadata.creationTimestamp = new Date().toISOString();
        body.status = { active: 0, succeeded: 0, failed: 0 };
        const job: FakeJob = { obj: body, pods: [], next: 0, deleted: false };
        this.jobs.set(body.metadata.name, job);
        this.schedule(job);
        return send(201, body);
      }
      if (req.method === 'GET' && !name)
        return send(200, {
          kind: 'JobList',
          apiVersion: 'batch/v1',
          metadata: {},
          items: [...this.jobs.values()].map((j) => j.obj).filter((j) => matches(j.metadata.labels)),
        });
      if (req.method === 'DELETE' && name) {
        const job = this.jobs.get(name);
        if (!job) return send(404, { kind: 'Status', reason: 'NotFound', code: 404 });
        this.jobs.delete(name);
        this.terminate(job, (job.obj.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000);
        return send(200, { kind: 'Status', status: 'Success' });
      }
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const items = [...this.jobs.values()]
        .flatMap((j) => j.pods.map((p) => p.obj))
        .filter((p) => matches(p.metadata.labels));
      return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
    }
    send(404, {
      kind: 'Status',
      reason: 'NotFound',
      message: `the fake serves no ${req.method} ${url.pathname}`,
      code: 404,
    });
  }

  /** Starts pods up to the Job's parallelism (the Job controller). */
  private schedule(job: FakeJob): void {
    const spec = job.obj.spec;
    while (!job.deleted && job.next < spec.completions && job.obj.status.active < spec.parallelism) {
      this.startPod(job, job.next++);
    }
    const ended = job.pods.filter((p) => ['Succeeded', 'Failed'].includes(p.obj.status.phase)).length;
    if (ended === spec.completions) {
      const failed = job.obj.status.failed > 0;
      job.obj.status.conditions = [{ type: failed ? 'Failed' : 'Complete', status: 'True' }];
      job.obj.status.completionTime = new Date().toISOString();
    }
  }

  private startPod(job: FakeJob, index: number): void {
    const jobName = job.obj.metadata.name;
    const name = `${jobName}-${index}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const ns = job.obj.metadata.namespace;
    const tpl = job.obj.spec.template;
    const container = tpl.spec.containers[0];
    const pod: FakePod = {
      logs: '',
      obj: {
        metadata: {
          name,
          namespace: ns,
          labels: { ...tpl.metadata?.labels, 'job-name': jobName, 'batch.kubernetes.io/job-name': jobName },
          annotations: { 'batch.kubernetes.io/job-completion-index': String(index) },
        },
        spec: tpl.spec,
        status: { phase: 'Pending' },
      },
    };
    job.pods.push(pod);
    job.obj.status.active++;
    const runtime = this.images[container.image];
    if (!runtime) {
      pod.obj.status.containerStatuses = [
        { state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` } } },
      ];
      return;
    }
    const env: Record<string, string> = { JOB_COMPLETION_INDEX: String(index), HOSTNAME: name };
    for (const e of container.env ?? []) {
      if ('value' in e) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef) env[e.name] = e.valueFrom.fieldRef.fieldPath === 'metadata.namespace' ? ns : name;
      else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const v = this.secrets.get(`${ns}/${ref.name}`)?.[ref.key];
        if (v === undefined) {
          pod.obj.status.containerStatuses = [
            { state: { waiting: { reason: 'CreateContainerConfigError', message: `secret "${ref.name}" not found` } } },
          ];
          return;
        }
        env[e.name] = v;
      }
    }
    const record: (typeof this.started)[number] = { name, index, env };
    this.started.push(record);
    const [, , ...args] = container.command as string[];
    const child =
      runtime === 'process'
        ? spawn(process.execPath, [DIST_MAIN, ...args], {
            env: { PATH: process.env.PATH ?? '', ...env },
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : spawn(
            'podman',
            [
              'run',
              '--rm',
              '--runtime=runc',
              ...this.podmanArgs,
              '--network=host',
              '--name',
              name,
              '--ulimit',
              'nofile=20000:20000',
              '--ulimit',
              'nproc=4096:4096',
              ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
              container.image,
              ...(container.command as string[]),
            ],
            { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
          );
    pod.child = child;
    child.stdout?.on('data', (d: Buffer) => (pod.logs += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (pod.logs += d.toString()));
    pod.obj.status = {
      phase: 'Running',
      containerStatuses: [{ state: { running: { startedAt: new Date().toISOString() } } }],
    };
    const limit = memoryBytes(container.resources?.limits?.memory);
    const watch = limit && runtime === 'process' ? setInterval(() => this.checkMemory(pod, limit), 100) : undefined;
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      record.exitCode = exitCode;
      const ok = exitCode === 0;
      const reason = pod.oom ? 'OOMKilled' : ok ? 'Completed' : 'Error';
      pod.obj.status = {
        phase: ok ? 'Succeeded' : 'Failed',
        containerStatuses: [{ state: { terminated: { exitCode, reason } } }],
      };
      job.obj.status.active--;
      job.obj.status[ok ? 'succeeded' : 'failed']++;
      this.schedule(job);
    });
  }

  /** The cgroup's memory limit: the pod's processes' resident memory, summed, over the limit kills it. */
  private checkMemory(pod: FakePod, limit: number): void {
    const pgid = pod.child?.pid;
    if (!pgid || pod.oom) return;
    let rss = 0;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) !== pgid) continue; // the process group: the pod's processes
        rss += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
      } catch {
        // the process ended meanwhile
      }
    }
    if (rss > limit) {
      pod.oom = true;
      process.kill(-pgid, 'SIGKILL');
    }
  }

  /** Deletes a Job's pods as the kubelet does: SIGTERM, then SIGKILL after the grace period. */
  private terminate(job: FakeJob, graceMs: number): void {
    job.deleted = true;
    for (const p of job.pods) {
      const pid = p.child?.pid;
      if (!pid || p.child?.exitCode !== null || p.child.signalCode !== null) continue;
      const child = p.child;
      try {
        process.kill(pid, 'SIGTERM'); // the container's main process only, as the kubelet does
      } catch {
        continue;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      child.once('exit', () => clearTimeout(timer));
    }
  }

  /** What a pod printed. */
  logs(podName: string): string {
    for (const j of this.jobs.values()) for (const p of j.pods) if (p.obj.metadata.name === podName) return p.logs;
    return '';
  }
}

function memoryBytes(q: string | undefined): number | undefined {
  const m = /^(\d+)(Mi|Gi|Ki)?$/.exec(q ?? '');
  if (!m) return undefined;
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

function text(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (d: Buffer) => (s += d.toString()));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}
