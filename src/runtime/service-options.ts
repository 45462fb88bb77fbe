/**
 * The runtime options the three container platforms share (`knative`, `cloudrun`, `code_engine`
 * sections): each platform's options extend these with its own (namespace, project, region, …).
 */
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
