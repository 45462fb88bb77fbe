/**
 * The schema parts the HTTP backends share (knative, cloudrun, code_engine): the invoker's options
 * (`url`, `token`, …) and the worker service's runtime options (`image`, `containerConcurrency`, …).
 * Each platform's definition adds its own keys.
 */
import type { ZodNamespace } from '../definition.js';
import { parts } from '../schema-parts.js';

/** The keys of {@link import('./invoker.js').HttpInvokerOptions}. */
export function httpInvokerShape(z: ZodNamespace) {
  const p = parts(z);
  const url = z
    .string({ error: 'an http:// or https:// URL' })
    .regex(/^https?:\/\/[^/]/, { error: 'an http:// or https:// URL' });
  return {
    url: p.url(),
    urls: z
      .array(url, { error: 'a non-empty array of http:// or https:// URLs' })
      .min(1, { error: 'a non-empty array of http:// or https:// URLs' })
      .optional(),
    concurrency: p.posInt(),
    token: p.str(),
    headers: p.stringMap(),
    retryDeadlineSeconds: p.seconds(),
    connectTimeoutSeconds: p.seconds(),
    signJobs: p.bool(),
  };
}

/** The keys of {@link import('../../runtime/service-options.js').ServiceRuntimeOptions} (image options included). */
export function serviceRuntimeShape(z: ZodNamespace) {
  const p = parts(z);
  return {
    image: p.str(),
    builder: p.oneOf(['docker', 'podman']),
    buildArgs: p.strings(),
    baseImage: p.str(),
    containerConcurrency: p.posInt(),
    minScale: p.nonNegInt(),
    maxScale: p.posInt(),
    timeoutSeconds: p.posInt(),
    env: p.stringMap(),
    tokenSecret: p.str(),
    signingKeySecret: p.str(),
    storageSecret: p.str(),
    allowUnsignedJobs: p.bool(),
    push: p.bool(),
    build: p.bool(),
  };
}

/** What every HTTP backend says to a user who still sets `sendStorageConfig`. */
export const HTTP_REMOVED_OPTIONS = {
  sendStorageConfig:
    'is gone: requests never carry storage any more; the service uses its own BURST_STORAGE_CONFIG (set by "burst runtime deploy")',
} as const;
