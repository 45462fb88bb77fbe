/**
 * Who may talk to the dashboard. Two checks, on every request:
 *
 * - the `Host` header must name this machine's loopback (`localhost`, `127.0.0.1`, `[::1]`, any
 *   `*.localhost`) or the host the dashboard was told to listen on: a page on `attacker.example` whose
 *   name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name and is refused (403);
 * - the request must carry this run's random token, from the cookie set when the printed URL is opened
 *   or an `Authorization: Bearer` header: other local users, who can reach 127.0.0.1 but never saw the
 *   URL, and other web pages are refused (401). The cookie is `HttpOnly` and `SameSite=Strict`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A new random token (256 bits, hex). */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** The cookie holding the token; named by port so two dashboards on one machine do not clash. */
export function cookieName(port: number): string {
  return `burst_dashboard_${port}`;
}

/** The `Set-Cookie` value for the token. */
export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

/** What a request is checked against. */
export interface AccessRule {
  /** The address the server listens on; it is an accepted Host name too. */
  host: string;
  token: string;
  port: number;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** The reason to refuse `req`, or undefined when it may pass. */
export function checkAccess(req: IncomingMessage, rule: AccessRule): { status: 401 | 403; error: string } | undefined {
  const name = hostName(req.headers.host);
  if (name === undefined || !hostAllowed(name, rule.host)) {
    return {
      status: 403,
      error: `the Host header ${JSON.stringify(req.headers.host ?? '')} is not this machine's loopback or the dashboard's --host; open the URL burst dashboard printed`,
    };
  }
  const given = tokenOf(req, rule.port);
  if (given === undefined || !sameToken(given, rule.token)) {
    return {
      status: 401,
      error: 'this dashboard needs its access token: open the URL burst dashboard printed (it ends in ?token=…)',
    };
  }
  return undefined;
}

/** The host name of a Host header, lowercased, without port or IPv6 brackets. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d+)?$/.exec(h);
  if (bracketed) return bracketed[1];
  const plain = /^([a-z0-9.-]+)(?::\d+)?$/.exec(h);
  return plain ? plain[1]!.replace(/\.$/, '') : undefined;
}

function hostAllowed(name: string, listenHost: string): boolean {
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  const configured = listenHost.toLowerCase().replace(/^\[|\]$/g, '');
  return configured !== '0.0.0.0' && configured !== '::' && name === configured;
}

function tokenOf(req: IncomingMessage, port: number): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const url = new URL(req.url ?? '/', 'http://dashboard');
  if (url.pathname === '/' && url.searchParams.has('token')) return url.searchParams.get('token') ?? '';
  const wanted = `${cookieName(port)}=`;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const c = part.trim();
    if (c.startsWith(wanted)) return c.slice(wanted.length);
  }
  return undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
