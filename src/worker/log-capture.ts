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

  /**
   * @param outside where writes between calls go instead of the stream itself (a worker thread sends
   *   them to its pool: its own stdio streams would keep the client's process alive)
   */
  constructor(outside?: (stream: 'stdout' | 'stderr', text: string) => void) {
    this.hook(process.stdout, outside && ((text) => outside('stdout', text)));
    this.hook(process.stderr, outside && ((text) => outside('stderr', text)));
  }

  private hook(stream: NodeJS.WriteStream, outside: ((text: string) => void) | undefined): void {
    const original = stream.write.bind(stream) as Write;
    const capture = ((chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean => {
      const text = (): string =>
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      if (!this.active && !outside) return (original as (...a: unknown[]) => boolean)(chunk, encodingOrCb, cb);
      if (this.active) this.append(text());
      else outside?.(text());
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
    if (this.chunks.length !== 0) this.chunks = []; // stop() leaves it empty: no array per call
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
