/**
 * Splitting a byte stream into lines, streaming. Each chunk's run of whole lines is decoded as one
 * string (a newline is a UTF-8 character boundary, so no character is cut) and split there; only the
 * line that straddles two chunks is assembled from bytes. Lines are yielded without their terminator;
 * with the `'\n'` terminator a `'\r'` right before it is dropped too, so CRLF text reads the same as
 * LF text. A final line without a terminator is a line; the empty tail after a final terminator is
 * not (`"a\nb\n"` has two lines, `""` has none).
 */
import { asBuffer } from './align.js';

const CR = 0x0d;

/** The last `n` bytes held in `parts` (whose total length is at least `n`). */
function lastBytes(parts: Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let need = n;
  for (let i = parts.length - 1; i >= 0 && need > 0; i--) {
    const p = parts[i] as Buffer;
    const take = Math.min(need, p.length);
    out.unshift(p.subarray(p.length - take));
    need -= take;
  }
  return Buffer.concat(out);
}

/** Splits chunks into batches of lines; one instance per stream. */
class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private readonly text: string;
  private readonly L: number;

  constructor(
    private readonly newline: Buffer,
    private readonly stripCR: boolean,
  ) {
    this.text = newline.toString('utf8');
    this.L = newline.length;
  }

  private decodeLine(bytes: Buffer, out: string[]): void {
    const n = this.stripCR && bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    out.push(bytes.toString('utf8', 0, n));
  }

  /** The pending bytes followed by `piece`, as one line; clears the pending bytes. */
  private flushWith(piece: Buffer, out: string[]): void {
    this.decodeLine(this.pendingLen > 0 ? Buffer.concat([...this.pending, piece]) : piece, out);
    this.pending = [];
    this.pendingLen = 0;
  }

  /** Splits a decoded run of whole lines (ending with a terminator) into `out`. */
  private splitText(s: string, out: string[]): void {
    const nl = this.text;
    for (let p = 0; p < s.length; ) {
      const q = s.indexOf(nl, p);
      const e = this.stripCR && q > p && s.charCodeAt(q - 1) === CR ? q - 1 : q;
      out.push(s.slice(p, e));
      p = q + nl.length;
    }
  }

  /** The complete lines the chunk ends (possibly none); keeps the rest for later. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    const { newline, L } = this;
    let i = 0;
    if (L > 1 && this.pendingLen > 0) {
      // A terminator that starts in the pending bytes and ends in this chunk.
      const tailLen = Math.min(L - 1, this.pendingLen);
      const w = Buffer.concat([lastBytes(this.pending, tailLen), chunk.subarray(0, L - 1)]).indexOf(newline);
      if (w >= 0) {
        const all = Buffer.concat(this.pending, this.pendingLen);
        this.pending = [];
        this.pendingLen = 0;
        this.decodeLine(all.subarray(0, all.length - tailLen + w), out);
        i = w + L - tailLen;
      }
    }
    const last = chunk.lastIndexOf(newline);
    if (last >= i) {
      const first = chunk.indexOf(newline, i);
      this.flushWith(chunk.subarray(i, first), out);
      if (last > first) this.splitText(chunk.toString('utf8', first + L, last + L), out);
      i = last + L;
    }
    if (i < chunk.length) {
      this.pending.push(chunk.subarray(i));
      this.pendingLen += chunk.length - i;
    }
    return out;
  }

  /** The last line, when the stream did not end with a terminator. */
  end(): string[] {
    const out: string[] = [];
    if (this.pendingLen > 0) this.flushWith(Buffer.alloc(0), out);
    return out;
  }
}

/** An async iterator over lines that hands out each chunk's batch without a promise chain per line. */
class LineIterator implements AsyncIterableIterator<string> {
  private batch: string[] = [];
  private index = 0;
  private done = false;
  private readonly source: AsyncIterator<Uint8Array | string>;

  constructor(
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    private readonly splitter: LineSplitter,
  ) {
    this.source = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<string>> {
    if (this.index < this.batch.length)
      return Promise.resolve({ value: this.batch[this.index++] as string, done: false });
    return this.fill();
  }

  private async fill(): Promise<IteratorResult<string>> {
    while (!this.done) {
      const r = await this.source.next();
      if (r.done) {
        this.done = true;
        this.batch = this.splitter.end();
      } else {
        this.batch = this.splitter.push(asBuffer(r.value));
      }
      this.index = 0;
      if (this.batch.length > 0) return { value: this.batch[this.index++] as string, done: false };
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<string>> {
    this.done = true;
    this.batch = [];
    await this.source.return?.();
    return { value: undefined, done: true };
  }
}

function toAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return { next: async () => it.next() };
}

/**
 * Splits `source` on `newline` (which must not overlap itself) and yields each line decoded as UTF-8.
 *
 * @param stripCR drop a `'\r'` ending a line (used with the `'\n'` terminator)
 */
export function splitLines(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  newline: Buffer,
  stripCR: boolean,
): AsyncIterableIterator<string> {
  return new LineIterator(source, new LineSplitter(newline, stripCR));
}
