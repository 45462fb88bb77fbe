/**
 * The fast path of large reads from plain-http endpoints (a Ceph or MinIO gateway on the local network):
 * one ranged GET of a presigned URL over a raw socket whose reads land straight in the destination
 * buffer (`onread` with a buffer per read). Node's HTTP client would allocate a 64 KiB buffer per
 * read and copy each one again; on a small machine that halves the throughput.
 *
 * Anything unexpected (a status other than 206, no Content-Length, a length other than asked, a
 * network error, a timeout) resolves to `false`, and the caller fetches the part again through the
 * SDK, which has the retries and the error mapping.
 */
import { connect, type Socket } from 'node:net';

/** Where a part goes and how to fetch it. */
export interface RawRangeRequest {
  /** A presigned GET URL of the object (http: only). */
  url: URL;
  /** The bytes `[start, end)` of the object. */
  start: number;
  end: number;
  /** Destination, and the offset in it of byte `start`. */
  target: Buffer;
  at: number;
  /** Sent as If-Match, so that a part of another version of the object is refused (412). */
  etag?: string | undefined;
  /** Milliseconds without progress before giving up. */
  idleTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

const MAX_HEADER = 64 * 1024;

/** Parses a response head; returns the status and Content-Length (undefined when absent or chunked). */
function parseHead(head: string): { status: number; length: number | undefined } {
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  if (/\r\ntransfer-encoding:/i.test(head)) return { status, length: undefined };
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return { status, length: m ? Number(m[1]) : undefined };
}

/** Fetches one range into `target`; true when every byte arrived, false when the caller should retry it another way. */
export function rawRangeInto(req: RawRangeRequest): Promise<boolean> {
  const want = req.end - req.start;
  return new Promise<boolean>((resolve) => {
    const header = Buffer.allocUnsafe(MAX_HEADER);
    let headerLength = 0;
    let inBody = false;
    let pos = req.at;
    let settled = false;
    let socket: Socket | undefined;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      req.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve(ok);
    };
    const onAbort = () => finish(false);
    if (req.signal?.aborted) return finish(false);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const onData = (n: number): boolean => {
      if (!inBody) {
        headerLength += n;
        const end = header.subarray(0, headerLength).indexOf('\r\n\r\n');
        if (end < 0) {
          if (headerLength >= MAX_HEADER) finish(false);
          return !settled;
        }
        const { status, length } = parseHead(header.toString('latin1', 0, end));
        if (status !== 206 || length !== want) {
          finish(false);
          return false;
        }
        inBody = true;
        const early = header.subarray(end + 4, headerLength);
        if (early.byteLength > want) {
          finish(false);
          return false;
        }
        req.target.set(early, pos);
        pos += early.byteLength;
      } else {
        pos += n;
      }
      if (pos - req.at >= want) {
        finish(true);
        return false;
      }
      return true;
    };
    socket = connect({
      host: req.url.hostname,
      port: Number(req.url.port || 80),
      onread: {
        // Until the head is parsed, reads go to the header buffer; then straight into the target.
        buffer: () => (inBody ? req.target.subarray(pos, req.at + want) : header.subarray(headerLength)),
        callback: onData,
      },
    });
    socket.setTimeout(req.idleTimeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(pos - req.at >= want && inBody));
    socket.on('connect', () => {
      const lines = [
        `GET ${req.url.pathname}${req.url.search} HTTP/1.1`,
        `Host: ${req.url.host}`,
        `Range: bytes=${req.start}-${req.end - 1}`,
        ...(req.etag ? [`If-Match: ${req.etag}`] : []),
        'Connection: close',
        '',
        '',
      ];
      socket?.write(lines.join('\r\n'));
    });
  });
}
