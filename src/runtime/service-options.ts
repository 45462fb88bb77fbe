/**
 * The runtime options the three container platforms share (`knative`, `cloudrun`, `code_engine`
 * sections): each platform's options extend these with its own (namespace, project, region, …).
 */
import { ConfigError } from '../errors.js';
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
    throw new ConfigError(`a ${rule.label} name must be lowercase letters, digits and "-", start with a letter, not end with "-" and have at most ${rule.maxLength} characters, got ${JSON.stringify(n)}`, { keyPath: 'name', backend: rule.backend });
  }
  return n;
}

/** `n` when it is a positive integer, else a {@link ConfigError} naming `keyPath`. */
export function positiveOption(n: number, keyPath: string, backend: string): number {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${keyPath} must be a positive integer, got ${JSON.stringify(n)}`, { keyPath, backend });
  return n;
}
