/**
 * The Google Cloud Run backend: a Cloud Run service running Burst's worker image. A service that
 * requires authentication takes a Google-signed ID token: `cloudrun.idToken`, or else the output of
 * `gcloud auth print-identity-token` (when gcloud is on PATH), refreshed every 45 minutes (the token
 * lives an hour). With an ID token, `cloudrun.token` (the worker's own BURST_SERVE_TOKEN) travels in
 * an `X-Burst-Token` header instead of `Authorization`.
 *
 * The service itself is created by `burst runtime deploy --backend cloudrun` (runtime.ts beside this file).
 * What it leaves out: minting ID tokens from a service-account key itself (use gcloud or pass one).
 */
import { execFile } from 'node:child_process';
import type { BackendContext, ComputeBackend } from '../types.js';
import { httpBackend, type HttpInvokerOptions } from '../http/invoker.js';
import { onPath } from '../on-path.js';
import { ConfigError } from '../../errors.js';

/** Options of the Cloud Run backend (`cloudrun: { url, idToken, concurrency }`). */
export interface CloudRunOptions extends HttpInvokerOptions {
  /** A Google-signed ID token whose audience is the service URL. @default from `gcloud auth print-identity-token` */
  idToken?: string;
  /** Ask gcloud for an ID token when `idToken` is unset (`false` for a service that allows unauthenticated calls). @default true */
  gcloud?: boolean;
}

const REFRESH_MS = 45 * 60_000;

/** Creates the Cloud Run backend. */
export function cloudrun(options: CloudRunOptions, context: BackendContext): ComputeBackend {
  const { idToken, gcloud, ...rest } = options;
  let cached: { token: Promise<string | undefined>; at: number } | undefined;
  const platformToken = async (): Promise<string | undefined> => {
    if (idToken) return idToken;
    if (gcloud === false || !onPath('gcloud')) return undefined;
    if (!cached || Date.now() - cached.at > REFRESH_MS) cached = { token: printIdentityToken(), at: Date.now() };
    return cached.token;
  };
  return httpBackend({
    name: 'cloudrun',
    options: rest,
    context,
    platformToken,
    hint: (status) =>
      status === 401 || status === 403
        ? 'the service requires authentication: pass cloudrun.idToken, or log in with gcloud and grant yourself roles/run.invoker'
        : status === 404
          ? "does the service use this client's storage (its BURST_STORAGE_CONFIG)?"
          : undefined,
  });
}

function printIdentityToken(): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('gcloud', ['auth', 'print-identity-token'], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new ConfigError(
            `gcloud auth print-identity-token failed: ${stderr.trim() || err.message}; log in with gcloud, or pass cloudrun.idToken (cloudrun.gcloud: false for a public service)`,
            { keyPath: 'cloudrun.idToken', backend: 'cloudrun', cause: err },
          ),
        );
      else resolve(stdout.trim() || undefined);
    });
  });
}
