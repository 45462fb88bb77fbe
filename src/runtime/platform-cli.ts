/**
 * Runtime managers of Cloud Run and Code Engine: they build the same worker image as Knative (with
 * docker or podman), but deploy, list and delete through the platform's own CLI, which each command
 * prints in full rather than running (Burst does not call the Cloud Run Admin or Code Engine APIs).
 */
import { BurstError } from '../errors.js';
import { buildImage, defaultImage, type ImageOptions } from './image-build.js';
import { defaultServiceName } from './knative.js';
import type { RuntimeCommandOptions, RuntimeManager } from './types.js';

/** Runtime options of the `cloudrun` and `code_engine` sections. */
export interface PlatformRuntimeOptions extends ImageOptions {
  /** Cloud Run region, e.g. `europe-west1`. @default gcloud's configured region */
  region?: string;
  /** Requests one instance runs at once (the worker's slots). @default 4 */
  containerConcurrency?: number;
}

type Platform = 'cloudrun' | 'code_engine';

/** The command that deploys the worker image on `platform`. */
export function deployCommand(platform: Platform, o: RuntimeCommandOptions): string {
  const k = o.backendOptions as PlatformRuntimeOptions;
  const name = o.name ?? defaultServiceName();
  const image = k.image ?? '<your registry>/burst-worker:<version>';
  const concurrency = k.containerConcurrency ?? 4;
  const memory = (o.memoryMB ?? 512) * concurrency + 256;
  if (platform === 'cloudrun') {
    return [
      `gcloud run deploy ${name} --image ${image}`,
      `--port 8080 --concurrency ${concurrency} --memory ${memory}Mi --timeout 3600`,
      `--set-env-vars BURST_SERVE_CONCURRENCY=${concurrency} --labels burst-managed=true --no-allow-unauthenticated${k.region ? ` --region ${k.region}` : ''}`,
    ].join(' ');
  }
  return [
    `ibmcloud ce application create --name ${name} --image ${image}`,
    `--port 8080 --concurrency ${concurrency} --memory ${Math.ceil(memory / 1024)}G --cpu 1`,
    `--env BURST_SERVE_CONCURRENCY=${concurrency} --env-from-secret burst-serve-token`,
  ].join(' ');
}

function manager(platform: Platform): RuntimeManager {
  const cli = platform === 'cloudrun' ? 'gcloud' : 'ibmcloud';
  const refuse = (what: string, command: string): never => {
    throw new BurstError('RUNTIME_DEPLOY', `Burst does not ${what} ${platform} services itself; ${what} with ${cli}:\n  ${command}`, { backend: platform });
  };
  return {
    async build(o) {
      const k = o.backendOptions as PlatformRuntimeOptions;
      return buildImage({ ...k, image: k.image ?? defaultImage(), projectDir: o.projectDir ?? process.cwd(), log: o.log });
    },
    async deploy(o) {
      return refuse('deploy', `${deployCommand(platform, o)}\n(build and push the image first: burst runtime build --backend ${platform}, then docker push)`);
    },
    async list() {
      return refuse('list', platform === 'cloudrun' ? 'gcloud run services list --filter=metadata.labels.burst-managed=true' : 'ibmcloud ce application list');
    },
    async delete(o) {
      const name = o.name ?? '<name>';
      return refuse('delete', platform === 'cloudrun' ? `gcloud run services delete ${name}` : `ibmcloud ce application delete --name ${name}`);
    },
  };
}

/** `burst runtime … --backend cloudrun`. */
export const cloudrun = manager('cloudrun');
/** `burst runtime … --backend code_engine`. */
export const code_engine = manager('code_engine');
