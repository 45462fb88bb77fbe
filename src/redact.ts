/**
 * Redaction: the one place that decides what is a secret in text Burst prints or stores (config
 * output, error messages, logs, status records, the dashboard's API). Secrets are replaced by `***`:
 *
 * - URL user-info (`https://user:pass@host` → `https://***@host`);
 * - credential query parameters of presigned and tokenised URLs (`X-Amz-Signature`, `X-Amz-Credential`,
 *   `X-Amz-Security-Token`, `Signature`, `sig`, `token`, `access_token`, `api_key`, ...);
 * - values of sensitive headers (`Authorization`, `Cookie`, `Proxy-Authorization`, `X-Api-Key`, and any
 *   name holding token, secret, password, key, auth, session or credential), and `Bearer`/`Basic`
 *   credentials in free text;
 * - in configuration objects: secret keys (`secretAccessKey`, `sessionToken`, ...), header values as
 *   above, and every value of an `env` map (the environment handed to calls often holds keys).
 *
 * This module imports nothing, so errors.ts and the worker bundle may use it.
 */

/** What a secret is replaced by. */
export const REDACTED = '***';

/** Header names that always carry credentials. */
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-amz-security-token',
]);

/** Parts of a header or parameter name that mark its value as a secret. */
const SECRET_WORDS = /token|secret|passw|pwd|key|auth|session|credential|signature|cookie/i;

/** Query parameters whose values are credentials (compared lower-case). */
const SECRET_PARAMS = new Set([
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
  'signature',
  'sig',
  'token',
  'access_token',
  'id_token',
  'refresh_token',
  'api_key',
  'apikey',
  'key',
  'password',
  'secret',
  'client_secret',
  'code',
]);

/** Configuration key names whose values are secrets (in any section). */
const SECRET_CONFIG_KEY = /secret|token|password|passwd|passphrase|credential|private|apikey|api_key|accesskey/i;

/** True for a header name whose value must not be shown. */
export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADERS.has(name.toLowerCase()) || SECRET_WORDS.test(name);
}

/** True for a query parameter whose value must not be shown. */
export function isSecretParam(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_PARAMS.has(n) || n.startsWith('x-amz-security') || /token|secret|passw|signature|credential/.test(n);
}

/** True for a configuration key whose value must not be shown. */
export function isSecretConfigKey(key: string): boolean {
  return SECRET_CONFIG_KEY.test(key);
}

/** URLs inside free text: a scheme, `://`, then anything up to white space or a quote/bracket. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>`()[\]{}]+)/gi;

/**
 * A URL with its user-info and credential query parameters replaced by `***`; other text unchanged.
 *
 * @example
 * ```ts
 * redactUrl('http://u:pw@h:7480/b?X-Amz-Signature=abc&part=2'); // 'http://***@h:7480/b?X-Amz-Signature=***&part=2'
 * ```
 */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!m) return url;
  return (m[1] as string) + redactUrlRest(m[2] as string);
}

function redactUrlRest(rest: string): string {
  // Authority ends at the first '/', '?' or '#'; user-info is what comes before its last '@'.
  const end = rest.search(/[/?#]/);
  let authority = end < 0 ? rest : rest.slice(0, end);
  let tail = end < 0 ? '' : rest.slice(end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = `${REDACTED}@${authority.slice(at + 1)}`;
  tail = tail.replace(/([?&;])([^=&#;]+)=([^&#;]*)/g, (all, sep: string, name: string, value: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      /* keep the raw name */
    }
    return isSecretParam(decoded) && value !== '' ? `${sep}${name}=${REDACTED}` : all;
  });
  return authority + tail;
}

/**
 * Free text with every secret it visibly holds replaced: URLs (user-info, credential parameters),
 * `Bearer`/`Basic` credentials and `Authorization: ...`-style header lines.
 */
export function redactText(text: string): string {
  if (typeof text !== 'string' || text === '') return text;
  let out = text.includes('://')
    ? text.replace(URL_IN_TEXT, (_all, scheme: string, rest: string) => scheme + redactUrlRest(rest))
    : text;
  out = out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`);
  out = out.replace(
    /\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key)(["']?\s*[:=]\s*["']?)([^\s"',}]+)/gi,
    (all, name: string, sep: string, value: string) =>
      value === REDACTED || /^(Bearer|Basic)$/.test(value) ? all : `${name}${sep}${REDACTED}`,
  );
  return out;
}

/** A copy of a header map with the values of sensitive headers replaced. */
export function redactHeaders<T extends Record<string, unknown>>(headers: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isSensitiveHeader(k) && v !== undefined ? REDACTED : v;
  return out as T;
}

/**
 * A deep copy of a configuration (or any JSON-like value) safe to print: secret keys, sensitive
 * header values (inside any `headers` object), every value of any `env` object, and secrets inside
 * string values (URLs, bearer tokens) replaced by `***`.
 */
export function redactConfig<T>(value: T): T {
  return redactValue(value, undefined) as T;
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, undefined));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (key === 'env' || isSecretConfigKey(k) || (key !== undefined && /headers$/i.test(key) && isSensitiveHeader(k)))
      out[k] = isPlainObject(v) ? redactValue(v, k) : REDACTED;
    else out[k] = redactValue(v, k);
  }
  return out;
}

/**
 * A deep copy of any JSON-like value (a status record, an API response) with secrets in its strings
 * replaced, and the values of secret-named keys and sensitive headers hidden.
 */
export function redactDeep<T>(value: T): T {
  return redactValue(value, undefined) as T;
}

/**
 * A call's status record as it may be stored: its error (message, stack, properties such as the
 * `uri` of a presigned input) and its captured logs without secrets. Other fields are kept as they are.
 */
export function redactRecord<T extends { error?: unknown; logs?: unknown }>(record: T): T {
  if (record.error === undefined && typeof record.logs !== 'string') return record;
  const out = { ...record };
  if (out.error !== undefined) out.error = redactDeep(out.error);
  if (typeof out.logs === 'string') out.logs = redactText(out.logs);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
