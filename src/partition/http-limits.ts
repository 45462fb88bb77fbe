/** Limits of HTTP(S) partition reads and their defaults: no I/O module, so planning can import them cheaply. */

/** Limits of HTTP(S) requests, as planned (they travel to workers in each spec). */
export interface HttpLimits {
  /** Milliseconds to open the connection (TCP and TLS). */
  connectTimeout: number;
  /** Milliseconds from sending a request to its response headers. */
  headTimeout: number;
  /** Milliseconds a response body may pause without a byte. */
  readTimeout: number;
  /** Hosts (`name` or `name:port`) redirects may lead to besides the URL's own host. */
  redirectHosts: string[];
}

/** Defaults of {@link HttpLimits}. */
export const HTTP_DEFAULTS: Readonly<HttpLimits> = Object.freeze({
  connectTimeout: 10_000,
  headTimeout: 30_000,
  readTimeout: 60_000,
  redirectHosts: [],
});
