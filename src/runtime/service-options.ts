/**
 * The runtime options the three container platforms share (`knative`, `cloudrun`, `code_engine`
 * sections): each platform's options extend these with its own (namespace, project, region, …).
 */
import { ConfigError } from '../errors.js';
import type { StorageConfig } from '../storage/types.js';
import { VERSION } from '../version.js';
import type { ImageOptions } from './image-build.js';

/** Options of a worker service on a container platform. */
export interface ServiceRuntimeOptions extends ImageOptions {
  /** Requests one instance runs at once (the platform's per-instance concurrency; also the worker's slots). @default 4 */
  containerConcurrency?: number;
  /** Instances kept warm. @default 0 */
  minScale?: number;
  /** Most instances the platform may run. @default the platform's default */
  maxScale?: number;
  /** Longest request (all calls of one chunk), in seconds. @default 600 on Knative and Code Engine (its limit), 3600 on Cloud Run (its limit) */
  timeoutSeconds?: number;
  /** Environment variables of the workers. @default {} */
  env?: Record<string, string>;
  /**
   * A secret of the platform that becomes the workers' BURST_SERVE_TOKEN: a Kubernetes or Code Engine
   * secret (its key `token`), or a Secret Manager secret on Cloud Run (its latest version). @default none
   */
  tokenSecret?: string;
  /**
   * A secret of the platform that becomes the workers' BURST_SIGNING_KEY (the clients' `signingKey`):
   * a Kubernetes or Code Engine secret (its key `signing-key`; it may be the token's secret), or a
   * Secret Manager secret on Cloud Run. Required unless `allowUnsignedJobs`. @default none
   */
  signingKeySecret?: string;
  /**
   * A secret holding the workers' storage configuration as JSON (its key `storage-config`; a Secret
   * Manager secret on Cloud Run). Without it the client's own storage configuration, credentials
   * included, is written into the service's environment. @default none
   */
  storageSecret?: string;
  /** Let the workers run unsigned jobs (`--allow-unsigned-jobs`): whoever can write the bucket then runs code on them. @default false */
  allowUnsignedJobs?: boolean;
  /** Push the image before deploying (off for an image already in a registry the platform pulls from). @default true */
  push?: boolean;
  /** Build the image before deploying (off to deploy `image` as it is). @default true */
  build?: boolean;
}

/** The service name used when none is given: one per minor version, so a new client deploys beside the old. */
export const defaultServiceName = (): string => `burst-worker-${VERSION.split('.').slice(0, 2).join('-')}`;

/** What a platform accepts as a service name. */
export interface ServiceNameRule {
  /** How the platform calls it, e.g. "Knative service". */
  label: string;
  maxLength: number;
  backend: string;
}

/** `name` (or the default name) when the platform accepts it (a DNS label of at most `maxLength`), else a {@link ConfigError}. */
export function serviceName(name: string | undefined, rule: ServiceNameRule): string {
  const n = name ?? defaultServiceName();
  const label = new RegExp(`^[a-z]([-a-z0-9]{0,${rule.maxLength - 2}}[a-z0-9])?$`);
  if (!label.test(n)) {
    throw new ConfigError(
      `a ${rule.label} name must be lowercase letters, digits and "-", start with a letter, not end with "-" and have at most ${rule.maxLength} characters, got ${JSON.stringify(n)}`,
      { keyPath: 'name', backend: rule.backend },
    );
  }
  return n;
}

/** `n` when it is a positive integer, else a {@link ConfigError} naming `keyPath`. */
export function positiveOption(n: number, keyPath: string, backend: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${keyPath} must be a positive integer, got ${JSON.stringify(n)}`, { keyPath, backend });
  return n;
}

/** One variable of the workers' environment: a literal, or a key of a platform secret. */
export type WorkerEnvVar = { name: string; value: string } | { name: string; secret: string; key: string };

/** What the deploy knows besides the section: where the client keeps its data. */
export interface WorkerDeployContext {
  /** The client's bucket: the only one the workers serve (BURST_SERVE_BUCKETS). */
  bucket?: string;
  /** The client's storage configuration: the workers' own unless `storageSecret` is set. */
  storage?: StorageConfig;
}

/** Variables a worker reads as secrets; a literal `env` entry must not set them. */
const SECRET_VARS = {
  BURST_SERVE_TOKEN: 'tokenSecret',
  BURST_SIGNING_KEY: 'signingKeySecret',
  BURST_STORAGE_CONFIG: 'storageSecret',
} as const;

/**
 * The environment that secures a deployed `burst worker serve` (README "Workers that listen on a
 * network"): its token and signing key from platform secrets, its storage (secret, else the
 * client's configuration) and the one bucket it serves. A {@link ConfigError} names what is missing.
 */
export function workerEnvironment(k: ServiceRuntimeOptions, ctx: WorkerDeployContext, backend: string): WorkerEnvVar[] {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(message, { keyPath: `${backend}.${key}`, backend });
  };
  for (const [name, key] of Object.entries(SECRET_VARS)) {
    if (k.env && name in k.env)
      fail(
        'env',
        `${backend}.env must not set ${name}: it would sit in the service's spec in clear; use ${backend}.${key}`,
      );
  }
  if (!k.tokenSecret)
    fail(
      'tokenSecret',
      `${backend}.tokenSecret must name a secret of the platform holding the workers' bearer token (key "token"; the clients' ${backend}.token): the workers listen on a network and refuse to start without one`,
    );
  if (!k.signingKeySecret && !k.allowUnsignedJobs)
    fail(
      'signingKeySecret',
      `${backend}.signingKeySecret must name a secret of the platform holding the job signing key (key "signing-key"; the clients' signingKey), or set ${backend}.allowUnsignedJobs to true`,
    );
  if (!k.storageSecret && !ctx.storage)
    fail(
      'storageSecret',
      `the workers need their storage: set ${backend}.storageSecret, or deploy with the client's storage configured`,
    );
  const out: WorkerEnvVar[] = [{ name: 'BURST_SERVE_TOKEN', secret: k.tokenSecret as string, key: 'token' }];
  if (k.signingKeySecret) out.push({ name: 'BURST_SIGNING_KEY', secret: k.signingKeySecret, key: 'signing-key' });
  if (k.allowUnsignedJobs) out.push({ name: 'BURST_SERVE_ALLOW_UNSIGNED_JOBS', value: '1' });
  out.push(
    k.storageSecret
      ? { name: 'BURST_STORAGE_CONFIG', secret: k.storageSecret, key: 'storage-config' }
      : { name: 'BURST_STORAGE_CONFIG', value: JSON.stringify(ctx.storage) },
  );
  if (ctx.bucket) out.push({ name: 'BURST_SERVE_BUCKETS', value: ctx.bucket });
  return out;
}
