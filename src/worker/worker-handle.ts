/**
 * One worker of the pool (./pool.ts), as a child process or as a worker thread: the pool sends it
 * messages, reads its frames (./frames.ts) and its stderr, and is told once when it is gone.
 *
 * A process writes its frames synchronously to a side pipe (fd 4); a thread writes them synchronously
 * to a ring in shared memory (./frame-ring.ts), which the pool still holds after the thread is gone.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { FromChild, ToChild } from './protocol.js';
import { allPlainPrimitives } from '../serialize/index.js';
import { holdChild } from './hold.js';
import { createRing, RingReader, WAKE } from './frame-ring.js';
import { SERIAL_SCAVENGES } from './scavenges.js';

/** How calls are isolated from each other and from the client. */
export type Isolation = 'process' | 'thread';

/** What the pool does with a worker. */
export interface WorkerHandle {
  readonly isolation: Isolation;
  /** False once the worker is gone or going: it gets no more work. */
  readonly connected: boolean;
  readonly exited: boolean;
  send(msg: ToChild): void;
  /** Stops the worker at once (SIGKILL for a process, `terminate()` for a thread). */
  kill(): void;
  /** Whether the worker keeps the client's event loop alive. */
  hold(held: boolean): void;
  /** Resolves when the worker has exited and everything it sent has been delivered. */
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

/** Where the worker's output goes. */
export interface WorkerSinks {
  frames(data: Buffer): void;
  message(msg: FromChild): void;
  stderr(data: Buffer): void;
}

export interface SpawnOptions {
  isolation: Isolation;
  runtimeMemoryMB?: number;
  env?: NodeJS.ProcessEnv;
  /** A process runs its young-generation collections on one thread (./scavenges.ts). */
  serialScavenges?: boolean;
}

const entry = (() => {
  const ts = import.meta.url.endsWith('.ts');
  // The built package ships the entry bundled (scripts/build-worker-bundle.mjs): one CommonJS file.
  const bundled = new URL('../bundle-worker/child.cjs', import.meta.url);
  const url = ts
    ? new URL('./child.ts', import.meta.url)
    : existsSync(bundled)
      ? bundled
      : new URL('./child.js', import.meta.url);
  // Running from src/ under tsx (tests): a thread does not inherit tsx's hooks; it registers them.
  return { url: url.href, path: fileURLToPath(url), ts, tsx: ts ? import.meta.resolve('tsx/esm/api') : undefined };
})();

/** Starts one worker running src/worker/child.ts. */
export function spawnWorker(options: SpawnOptions, sinks: WorkerSinks): WorkerHandle {
  return options.isolation === 'thread' ? new ThreadWorker(options, sinks) : new ProcessWorker(options, sinks);
}

class ProcessWorker implements WorkerHandle {
  readonly isolation = 'process';
  private readonly child;

  constructor(options: SpawnOptions, sinks: WorkerSinks) {
    const execArgv = entry.ts ? ['--import', 'tsx'] : [];
    if (options.runtimeMemoryMB) execArgv.push(`--max-old-space-size=${options.runtimeMemoryMB}`);
    if (options.serialScavenges) execArgv.push(SERIAL_SCAVENGES);
    this.child = fork(entry.path, [], {
      execArgv,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      serialization: 'advanced',
    });
    const child = this.child;
    child.stdout?.on('data', () => {}); // output outside calls is not the user's; drain it
    child.stderr?.on('data', sinks.stderr);
    (child.stdio[4] as Readable | null)?.on('data', sinks.frames);
    child.on('message', sinks.message);
    child.on('error', () => {}); // 'exit' follows and carries what we need
  }

  get connected(): boolean {
    return this.child.connected;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  send(msg: ToChild): void {
    if (this.child.connected)
      this.child.send(msg, (err) => {
        if (err) this.child.kill('SIGKILL');
      });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  hold(held: boolean): void {
    holdChild(this.child, held);
  }

  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    // Wait for 'close' (stdio drained), not just 'exit': the last frames may still be in the pipe, and
    // they say which calls finished and which was running. A grandchild holding the pipes open must
    // not delay us long.
    this.child.once('exit', (code, signal) => {
      let handled = false;
      const handle = (): void => {
        if (handled) return;
        handled = true;
        cb(code, signal);
      };
      this.child.once('close', handle);
      setTimeout(handle, 500).unref();
    });
  }
}

/**
 * A thread whose first act is loading the worker entry: the bundled CommonJS file by `require`, or
 * (from src/ under tsx) the module by its file URL, once tsx's hooks are registered.
 */
const BOOT = [
  'const data = require("node:worker_threads").workerData;',
  'if (data.entry.endsWith(".cjs")) require(require("node:url").fileURLToPath(data.entry));',
  'else (data.tsx ? import(data.tsx).then((api) => api.register()) : Promise.resolve()).then(() => import(data.entry));',
].join('\n');

/**
 * True when postMessage's structured clone gives the thread exactly `msg`: no user value in it could
 * be a Buffer (the clone makes it a plain Uint8Array) or another object whose class the clone drops.
 * Such a message goes as it is: V8's format in a transferred buffer is one more ArrayBuffer per batch
 * in the thread, which its every young-generation GC then sweeps while a call waits.
 */
function clonesExactly(msg: ToChild): boolean {
  if (msg.t !== 'run') return true;
  if (typeof msg.job === 'object' && !allPlainPrimitives([msg.job.args])) return false;
  return !Array.isArray(msg.inputs) || allPlainPrimitives(msg.inputs); // not an array: a Float64Array
}

/** How often a busy ring is read when its frames come faster than one wake-up per this long. */
const POLL_MS = 1;

class ThreadWorker implements WorkerHandle {
  readonly isolation = 'thread';
  private readonly worker: Worker;
  private gone = false;
  private ended = false;
  private readonly reader: RingReader;
  private lastWake = -Infinity;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    options: SpawnOptions,
    private readonly sinks: WorkerSinks,
  ) {
    const ring = createRing();
    this.reader = new RingReader(ring);
    this.worker = new Worker(BOOT, {
      eval: true,
      workerData: { entry: entry.url, tsx: entry.tsx, ring },
      env: options.env ?? process.env,
      // No stdout/stderr streams: reading them keeps this process alive even when the worker is
      // unreferenced. The thread sends its stderr as messages instead (child.ts), drops its stdout.
      ...(options.runtimeMemoryMB ? { resourceLimits: { maxOldGenerationSizeMb: options.runtimeMemoryMB } } : {}),
    });
    const w = this.worker;
    w.on('message', (m: typeof WAKE | FromChild) => {
      if (m === WAKE) this.woken();
      else if (m.t === 'stderr') sinks.stderr(Buffer.from(m.text));
      else sinks.message(m);
    });
    // An uncaught error or the heap limit ends the thread; its text is the thread's "stderr", so a
    // crash report shows it and an out-of-memory is told apart as for a process.
    w.on('error', (err: Error & { code?: string }) => {
      this.gone = true;
      sinks.stderr(Buffer.from(`${err.code ? `${err.code}: ` : ''}${err.stack ?? err.message}\n`));
    });
    w.once('exit', () => {
      this.gone = true;
      this.ended = true;
    });
  }

  get connected(): boolean {
    return !this.gone;
  }

  get exited(): boolean {
    return this.ended;
  }

  send(msg: ToChild): void {
    if (this.gone) return;
    try {
      if (clonesExactly(msg)) this.worker.postMessage(msg);
      else {
        // V8's format, as a process's 'advanced' IPC uses: a Buffer input arrives as a Buffer, where
        // postMessage's own structured clone would make it a plain Uint8Array.
        const bytes = serialize(msg);
        this.worker.postMessage(
          bytes,
          bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer] : [],
        );
      }
      this.reader.posted(); // the thread checks this count between calls to know it has mail
    } catch {
      this.kill();
    }
  }

  kill(): void {
    this.gone = true;
    void this.worker.terminate();
  }

  private drain(): void {
    if (this.poll) clearTimeout(this.poll);
    this.poll = undefined;
    this.reader.drain(this.sinks.frames);
  }

  /**
   * A wake-up costs this process an event per frame. When they come faster than {@link POLL_MS}
   * (short calls), the ring is read on a timer instead, many frames at a time, until a look finds it
   * empty; then wake-ups are asked for again.
   */
  private woken(): void {
    const now = performance.now();
    const fast = now - this.lastWake < POLL_MS;
    this.lastWake = now;
    if (!fast) return this.drain();
    this.reader.read(this.sinks.frames);
    this.poll ??= setTimeout(this.look, POLL_MS).unref();
  }

  private readonly look = (): void => {
    this.poll = undefined;
    if (this.reader.read(this.sinks.frames)) this.poll = setTimeout(this.look, POLL_MS).unref();
    else this.drain();
  };

  hold(held: boolean): void {
    if (held) this.worker.ref();
    else this.worker.unref();
  }

  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    // Messages the thread posted before it ended (its stderr) are delivered before 'exit'.
    this.worker.once('exit', (code) => {
      this.drain(); // what the thread wrote to its ring before it ended
      cb(code, null);
    });
  }
}
