/**
 * Splitting a byte stream into lines, streaming: a line's bytes are gathered across chunks (and a
 * multi-byte terminator may straddle two chunks), then decoded whole, so a UTF-8 character is never
 * cut. Lines are yielded without their terminator; with the `'\n'` terminator a `'\r'` right before
 * it is dropped too, so CRLF text reads the same as LF text. A final line without a terminator is a
 * line; the empty tail after a final terminator is not (`"a\nb\n"` has two lines, `""` has none).
 */
import { asBuffer } from './align.js';

const CR = 0x0d;

function decode(bytes: Buffer, stripCR: boolean): string {
  const n = stripCR && bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, n);
}

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

/**
 * Splits `source` on `newline` (which must not overlap itself) and yields each line decoded as UTF-8.
 *
 * @param stripCR drop a `'\r'` ending a line (used with the `'\n'` terminator)
 */
export async function* splitLines(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, newline: Buffer, stripCR: boolean): AsyncGenerator<string> {
  const L = newline.length;
  let parts: Buffer[] = [];
  let partLen = 0;
  for await (const raw of source) {
    const chunk = asBuffer(raw);
    let i = 0;
    if (L > 1 && partLen > 0) {
      // A terminator that starts in the pending bytes and ends in this chunk.
      const tailLen = Math.min(L - 1, partLen);
      const w = Buffer.concat([lastBytes(parts, tailLen), chunk.subarray(0, L - 1)]).indexOf(newline);
      if (w >= 0) {
        yield decode(Buffer.concat(parts, partLen).subarray(0, partLen - tailLen + w), stripCR);
        parts = [];
        partLen = 0;
        i = w + L - tailLen;
      }
    }
    for (;;) {
      const j = chunk.indexOf(newline, i);
      if (j < 0) break;
      const piece = chunk.subarray(i, j);
      yield decode(partLen > 0 ? Buffer.concat([...parts, piece]) : piece, stripCR);
      parts = [];
      partLen = 0;
      i = j + L;
    }
    if (i < chunk.length) {
      parts.push(chunk.subarray(i));
      partLen += chunk.length - i;
    }
  }
  if (partLen > 0) yield decode(Buffer.concat(parts, partLen), stripCR);
}
