/**
 * The side pipe of a worker thread: a byte ring in a SharedArrayBuffer. The thread writes its frames
 * (./frames.ts) into it synchronously, so what was written survives the thread's death as a process's
 * pipe does, and the pool reads many frames per wake-up instead of one message per call.
 *
 * Header (Int32): the bytes written and read so far (mod 2^32), a flag the pool sets when it has
 * read everything and wants a wake-up message for what comes next (only the writer clears it, so at
 * most one wake-up is in flight), and a count of the messages the pool has posted to the thread.
 */
const WRITE = 0;
const READ = 1;
const WANT_WAKE = 2;
/** Messages the pool has posted to the thread so far: the thread turns its event loop only for mail. */
const MAIL = 3;
const HEADER_BYTES = 16;
/** The message a thread posts when its ring has something for the pool to read. */
export const WAKE = 0;
/** Bytes of the ring: a power of two, so positions stay right when the counters wrap. */
export const RING_BYTES = 1 << 20;

/** A new ring's shared memory; the pool keeps it and passes it to the thread. */
export function createRing(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(HEADER_BYTES + RING_BYTES);
  Atomics.store(new Int32Array(sab, 0, 4), WANT_WAKE, 1);
  return sab;
}

/** The thread's end: {@link write} returns once every byte is in the ring. */
export class RingWriter {
  private readonly head: Int32Array;
  private readonly data: Uint8Array;

  constructor(
    sab: SharedArrayBuffer,
    private readonly wake: () => void,
  ) {
    this.head = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, HEADER_BYTES, RING_BYTES);
  }

  /** Writes the first `length` bytes of `buf` (copied with no view made: this runs twice per call). */
  write(buf: Buffer, length = buf.length): void {
    let offset = 0;
    while (offset < length) {
      const w = Atomics.load(this.head, WRITE) >>> 0;
      const r = Atomics.load(this.head, READ);
      const free = RING_BYTES - ((w - (r >>> 0)) >>> 0);
      if (free === 0) {
        // Full: make sure the pool is reading, then wait for it to take some.
        this.wakeIfWanted();
        Atomics.wait(this.head, READ, r, 10);
        continue;
      }
      const n = Math.min(free, length - offset);
      const at = w % RING_BYTES;
      const first = Math.min(n, RING_BYTES - at);
      copyBytes(buf, offset, this.data, at, first);
      if (n > first) copyBytes(buf, offset + first, this.data, 0, n - first);
      Atomics.store(this.head, WRITE, (w + n) | 0);
      offset += n;
    }
    this.wakeIfWanted();
  }

  private wakeIfWanted(): void {
    if (Atomics.exchange(this.head, WANT_WAKE, 0) === 1) this.wake();
  }

  /** How many messages the pool has posted to this thread so far. */
  mail(): number {
    return Atomics.load(this.head, MAIL);
  }
}

/** Up to this many bytes {@link copyBytes} copies in a loop. */
const SMALL_COPY = 256;

/**
 * Copies `n` bytes. A call's two frames are ~60 bytes, written once per call: a loop copies them in a
 * fraction of what Buffer#copy's argument checks and native call cost (~0.35 µs a call on a VM).
 */
function copyBytes(from: Uint8Array, at: number, to: Uint8Array, toAt: number, n: number): void {
  if (n > SMALL_COPY) {
    to.set(from.subarray(at, at + n), toAt);
    return;
  }
  for (let i = 0; i < n; i++) to[toAt + i] = from[at + i] as number;
}

/** The pool's end. */
export class RingReader {
  private readonly head: Int32Array;
  private readonly data: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.head = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, HEADER_BYTES, RING_BYTES);
  }

  /** Counts a message posted to the thread (call after posting it). */
  posted(): void {
    Atomics.add(this.head, MAIL, 1);
  }

  /** Reads what is in the ring without asking for a wake-up; false when it was empty. */
  read(sink: (bytes: Buffer) => void): boolean {
    const chunk = this.take();
    if (chunk) sink(chunk);
    return chunk !== undefined;
  }

  /** Reads what is in the ring, and again while more arrives, then asks for a wake-up. */
  drain(sink: (bytes: Buffer) => void): void {
    for (;;) {
      const chunk = this.take();
      if (chunk) sink(chunk);
      Atomics.store(this.head, WANT_WAKE, 1);
      if (this.pending() === 0) return;
      // More came in: read it now if the flag is still ours; else the writer took it and a wake-up is on its way.
      if (Atomics.exchange(this.head, WANT_WAKE, 0) === 0) return;
    }
  }

  private pending(): number {
    return ((Atomics.load(this.head, WRITE) >>> 0) - (Atomics.load(this.head, READ) >>> 0)) >>> 0;
  }

  private take(): Buffer | undefined {
    const w = Atomics.load(this.head, WRITE) >>> 0;
    const r = Atomics.load(this.head, READ) >>> 0;
    const n = (w - r) >>> 0;
    if (n === 0) return undefined;
    const out = Buffer.allocUnsafe(n);
    const at = r % RING_BYTES;
    const first = Math.min(n, RING_BYTES - at);
    out.set(this.data.subarray(at, at + first), 0);
    if (n > first) out.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.head, READ, w | 0);
    Atomics.notify(this.head, READ);
    return out;
  }
}
