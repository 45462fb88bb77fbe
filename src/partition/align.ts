/**
 * Line alignment of a chunk, streaming and without a look-ahead limit. A chunk with assigned range
 * `[start, end)` owns the lines that START in it: it skips to just after the first newline ending at
 * or after `start` (unless `start` is 0), then reads on past `end` until the newline that ends its
 * last line, however far that is. Every line of the object thus belongs to exactly one chunk.
 *
 * This relies on the newline never overlapping itself (no proper prefix equal to a suffix, as in
 * `'\n\n'`): then every match of it in the bytes is a real terminator, wherever a scan begins.
 */

/** Opens the bytes `[from, to)` of an object as a stream of chunks. */
export type RangeOpener = (from: number, to: number) => Promise<AsyncIterable<Uint8Array>>;

/** The first continuation read past a chunk's end; later ones double, up to {@link MAX_STEP}. */
const FIRST_STEP = 64 * 1024;
const MAX_STEP = 8 * 1024 * 1024;

/** True when `newline` overlaps itself (a proper prefix equals a suffix), which alignment cannot handle. */
export function overlapsItself(newline: Uint8Array): boolean {
  const b = Buffer.from(newline.buffer, newline.byteOffset, newline.byteLength);
  for (let k = 1; k < b.length; k++) {
    if (b.subarray(0, k).equals(b.subarray(b.length - k))) return true;
  }
  return false;
}

export function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Finds newline matches in a byte stream fed chunk by chunk, including matches that straddle two
 * chunks (it keeps the last `newline.length - 1` bytes seen). Positions are absolute offsets.
 */
export class NewlineScanner {
  private tail = Buffer.alloc(0);
  private tailAt = 0;
  constructor(private readonly newline: Buffer) {}

  /** Forgets the bytes seen so far (the next chunk starts a new search). */
  reset(): void {
    this.tail = Buffer.alloc(0);
  }

  /**
   * The absolute end of the first match starting at or after `minStart` in `chunk` (which starts at
   * absolute offset `at`, right after the previously fed bytes), or -1.
   */
  find(chunk: Buffer, at: number, minStart: number): number {
    const nl = this.newline;
    const L = nl.length;
    if (L > 1 && this.tail.length > 0) {
      // A match fully inside the head cannot exist (the head is L-1 bytes): any hit here straddles.
      const window = Buffer.concat([this.tail, chunk.subarray(0, L - 1)]);
      const i = window.indexOf(nl, Math.max(0, minStart - this.tailAt));
      if (i >= 0) return this.tailAt + i + L;
    }
    const from = Math.max(0, minStart - at);
    const j = from < chunk.length ? chunk.indexOf(nl, from) : -1;
    if (j >= 0) return at + j + L;
    if (L > 1) {
      const all = this.tail.length + chunk.length;
      const keep = Math.min(L - 1, all);
      const joined =
        chunk.length >= keep
          ? chunk.subarray(chunk.length - keep)
          : Buffer.concat([this.tail, chunk]).subarray(all - keep);
      this.tail = Buffer.from(joined); // a copy: do not pin the whole chunk
      this.tailAt = at + chunk.length - keep;
    }
    return -1;
  }
}

/** Where a chunk's data lies and what to call when the object turns out shorter than planned. */
export interface AlignJob {
  start: number;
  end: number;
  size: number;
  /** The error to throw when a read returns fewer bytes than asked (the object shrank). */
  truncated: () => Error;
}

/**
 * The bytes of the lines owned by `[start, end)`, streamed: from the start of the first line starting
 * in the range to the end (terminator included) of the last one. The first read covers
 * `[start - L, end + 64 KiB)`, which usually holds the terminating newline; further reads double in
 * size until it or the end of the object is found, so a line of any length is delivered whole.
 */
export async function* alignToLines(open: RangeOpener, job: AlignJob, newline: Buffer): AsyncGenerator<Buffer> {
  const { start, size } = job;
  const end = Math.min(job.end, size);
  const L = newline.length;
  if (start >= end) return;
  const scan = new NewlineScanner(newline);
  const readStart = start === 0 ? 0 : Math.max(0, start - L);
  let dataStart = start === 0 ? 0 : -1;
  let pos = readStart;
  for (
    let to = Math.min(size, end + FIRST_STEP), step = FIRST_STEP;
    ;
    step = Math.min(step * 2, MAX_STEP), to = Math.min(size, pos + step)
  ) {
    for await (const raw of await open(pos, to)) {
      let chunk = asBuffer(raw);
      let at = pos;
      pos += chunk.length;
      if (dataStart < 0) {
        const e = scan.find(chunk, at, readStart);
        // No match yet: any later one ends after `pos`, so once past `end` no line starts in range.
        if (e < 0 && pos >= end) return;
        if (e < 0) continue;
        dataStart = e;
        if (dataStart >= end) return; // the first line starting here starts at or after `end`: none is ours
        chunk = chunk.subarray(e - at);
        at = e;
        scan.reset();
      }
      const e = scan.find(chunk, at, Math.max(dataStart, end - L));
      if (e >= 0) {
        yield chunk.subarray(0, e - at);
        return;
      }
      if (chunk.length > 0) yield chunk;
    }
    if (pos < to) throw job.truncated();
    if (pos >= size) return;
  }
}
