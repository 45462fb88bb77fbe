/**
 * A one-time warning when credentials (an S3 key's signatures, a bearer token, storage credentials
 * in a request body) would travel over plain `http://` to a host other than this machine: anyone on
 * the network path can read or replay them. Loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) are
 * fine: the traffic never leaves the machine.
 *
 * The warning goes through `process.emitWarning` (code `BURST_PLAIN_HTTP_CREDENTIALS`), once per host
 * and kind of credential per process, so `node --no-warnings` or a `process.on('warning')` listener
 * can take it.
 */
import { redactUrl } from './redact.js';

/** The warning code, for `process.on('warning')` listeners. */
export const PLAIN_HTTP_WARNING = 'BURST_PLAIN_HTTP_CREDENTIALS';

const warned = new Set<string>();

/** True for a host name or address that never leaves this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(h) ||
    /^::ffff:127\./.test(h)
  );
}

/**
 * Warns (once per host and `what`) when `url` is plain http to a non-loopback host and `carries` is
 * true; returns whether it warned. `what` names the credentials, e.g. "S3 requests signed with your keys".
 */
export function warnPlainHttpCredentials(
  urls: string | URL | ReadonlyArray<string | URL>,
  what: string,
  carries = true,
): boolean {
  if (!carries) return false;
  let any = false;
  for (const u of Array.isArray(urls) ? urls : [urls as string | URL]) {
    let url: URL;
    try {
      url = typeof u === 'string' ? new URL(u) : u;
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) continue;
    const key = `${url.host}\0${what}`;
    if (warned.has(key)) continue;
    warned.add(key);
    any = true;
    process.emitWarning(
      `${what} travel over plain http:// to ${redactUrl(url.origin)}, unencrypted: anyone on the network path can read them. Use an https:// URL, or a host on this machine.`,
      { code: PLAIN_HTTP_WARNING },
    );
  }
  return any;
}
