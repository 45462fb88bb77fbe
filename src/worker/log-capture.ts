/**
 * Captures what a call writes to stdout and stderr (console.log included) so it can travel with the
 * call's record instead of interleaving on the worker's console. Keeps the last part when long.
 */
const MAX_BYTES = 64 * 1024;

type Write = typeof process.stdout.write;

/** Routes process.stdout/stderr writes into a buffer between `start()` and `stop()`. */
export class LogCapture {
  private chunks: string[] = [];
  private size = 0;
  private active = false;
  private truncated = false;

  constructor() {
    this.hook(process.stdout);
    this.hook(process.stderr);
  }

  private hook(stream: NodeJS.WriteStream): void {
    const original = stream.write.bind(stream) as Write;
    const capture = ((chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean => {
      if (!this.active) return (original as (...a: unknown[]) => boolean)(chunk, encodingOrCb, cb);
      this.append(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as Write;
    stream.write = capture;
  }

  private append(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > MAX_BYTES && this.chunks.length > 1) {
      this.size -= (this.chunks.shift() as string).length;
      this.truncated = true;
    }
  }

  start(): void {
    this.chunks = [];
    this.size = 0;
    this.truncated = false;
    this.active = true;
  }

  /** Stops capturing and returns what was written, or undefined when nothing was. */
  stop(): string | undefined {
    this.active = false;
    if (this.chunks.length === 0) return undefined;
    const text = this.chunks.join('');
    this.chunks = [];
    return this.truncated ? `[… earlier output dropped]\n${text.slice(-MAX_BYTES)}` : text;
  }
}
