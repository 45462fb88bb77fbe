/**
 * `burst runtime … --backend openwhisk`: the worker image as a blackbox action. `deploy` builds and
 * pushes the image (its command: `burst worker openwhisk`) and creates or updates the action, with the
 * storage configuration as an init parameter (which the invoker hands to `/init`, never to callers)
 * and the annotation `burst.dev/managed`, so `list` and `delete` never touch anyone else's actions.
 */
import { BurstError, ConfigError } from '../../errors.js';
import {
  buildAndPush,
  buildImage,
  buildRuntimeImage,
  defaultImage,
  type ImageTools,
} from '../../runtime/image-build.js';
import type { RuntimeCommandOptions, RuntimeInfo, RuntimeManager } from '../../runtime/types.js';
import { VERSION } from '../../version.js';
import { actionPath, owError, owRequest, type OpenWhiskConnection } from './rest.js';
import { defaultActionName, type OpenWhiskOptions } from './options.js';

const MANAGED = 'burst.dev/managed';

/** An action as the API lists it. */
interface OwAction {
  name?: string;
  namespace?: string;
  annotations?: { key?: string; value?: unknown }[];
  limits?: { memory?: number; timeout?: number };
  exec?: { image?: string };
}

/** Creates the OpenWhisk runtime manager; `deps` replace the image tools in tests. */
export function openWhiskRuntimeManager(deps: ImageTools = {}): RuntimeManager {
  const section = (o: RuntimeCommandOptions): OpenWhiskOptions => o.backendOptions as OpenWhiskOptions;
  // The image's command is the action protocol's server, not "burst worker serve".
  const tools: ImageTools = {
    ...deps,
    build: (b) => (deps.build ?? buildImage)({ ...b, workerCommand: 'openwhisk' }),
  };
  const connect = (k: OpenWhiskOptions): OpenWhiskConnection => {
    const auth = k.auth ?? process.env.__OW_API_KEY;
    if (!k.apiHost)
      throw new ConfigError('openwhisk.apiHost must be the URL of the OpenWhisk API', {
        keyPath: 'openwhisk.apiHost',
        backend: 'openwhisk',
      });
    if (!auth)
      throw new ConfigError('openwhisk.auth must be the "uuid:key" of your namespace, or set __OW_API_KEY', {
        keyPath: 'openwhisk.auth',
        backend: 'openwhisk',
      });
    return { apiHost: k.apiHost, namespace: k.namespace ?? '_', auth };
  };
  const managed = (a: OwAction): boolean => (a.annotations ?? []).some((x) => x.key === MANAGED && x.value === true);
  const info = (a: OwAction): RuntimeInfo => {
    const version = a.annotations?.find((x) => x.key === 'burst.dev/version')?.value;
    return {
      name: a.name ?? '?',
      backend: 'openwhisk',
      ...(a.limits?.memory ? { memoryMB: a.limits.memory } : {}),
      ...(typeof version === 'string' ? { burstVersion: version } : {}),
      location: `${a.namespace ?? '_'}/${a.name ?? '?'}`,
      details: { ...(a.exec?.image ? { image: a.exec.image } : {}) },
    };
  };
  return {
    build: (o) => buildRuntimeImage(section(o), o, tools),

    async deploy(o) {
      const k = section(o);
      const c = connect(k);
      if (k.push !== false && !k.image)
        throw new ConfigError(
          'openwhisk.image must name an image on Docker Hub or a registry the invokers pull from, or set openwhisk.push to false',
          {
            keyPath: 'openwhisk.image',
            backend: 'openwhisk',
          },
        );
      if (!o.storage)
        throw new ConfigError(
          'the action needs its storage: deploy with the client storage configured (storage: "s3")',
          {
            keyPath: 'storage',
            backend: 'openwhisk',
          },
        );
      const image = await buildAndPush(k.image ?? defaultImage(), { ...k }, o, tools);
      const name = k.action ?? o.name ?? defaultActionName();
      const existing = await owRequest(c, 'GET', actionPath(name));
      if (existing.status === 200 && !managed(existing.body as OwAction))
        throw new ConfigError(
          `the OpenWhisk action ${name} exists and was not deployed by Burst; pick another openwhisk.action`,
          {
            keyPath: 'openwhisk.action',
            backend: 'openwhisk',
          },
        );
      const body = {
        exec: { kind: 'blackbox', image },
        limits: { memory: k.memoryMB ?? o.memoryMB ?? 1024, timeout: (k.timeoutSeconds ?? 600) * 1000, concurrency: 1 },
        parameters: [{ key: 'BURST_STORAGE_CONFIG', value: JSON.stringify(o.storage), init: true }],
        annotations: [
          { key: MANAGED, value: true },
          { key: 'burst.dev/version', value: VERSION },
          // Callers cannot override the bound (storage) parameter.
          { key: 'final', value: true },
        ],
      };
      o.log(`${existing.status === 200 ? 'updating' : 'creating'} OpenWhisk action ${name} (${image})`);
      const r = await owRequest(c, 'PUT', `${actionPath(name)}?overwrite=true`, body);
      if (r.status !== 200) throw owError(`deploying action ${name}`, c, r);
      return info(r.body as OwAction);
    },

    async list(o) {
      const c = connect(section(o));
      const r = await owRequest(c, 'GET', '/actions?limit=200');
      if (r.status !== 200) throw owError('listing actions', c, r);
      const items = (Array.isArray(r.body.items) ? r.body.items : []) as OwAction[];
      return items.filter(managed).map(info);
    },

    async delete(o) {
      const c = connect(section(o));
      let names: string[];
      if (o.name) {
        const r = await owRequest(c, 'GET', actionPath(o.name));
        if (r.status === 404) return [];
        if (r.status !== 200) throw owError(`reading action ${o.name}`, c, r);
        if (!managed(r.body as OwAction))
          throw new BurstError(
            'RUNTIME_DEPLOY',
            `the OpenWhisk action ${o.name} was not deployed by Burst; not deleting it`,
            {
              backend: 'openwhisk',
            },
          );
        names = [o.name];
      } else names = (await this.list(o)).map((i) => i.name);
      for (const name of names) {
        o.log(`deleting OpenWhisk action ${name}`);
        const r = await owRequest(c, 'DELETE', actionPath(name));
        if (r.status !== 200 && r.status !== 404) throw owError(`deleting action ${name}`, c, r);
      }
      return names;
    },
  };
}

/** The manager `burst runtime … --backend openwhisk` uses. */
export const openWhiskRuntimes: RuntimeManager = openWhiskRuntimeManager();
