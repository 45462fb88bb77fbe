/** Options of the `openwhisk` backend and its runtime (`openwhisk: {...}`), and their schema. */
import type { ZodNamespace } from '../definition.js';
import { parts } from '../schema-parts.js';
import type { ImageOptions } from '../../runtime/image-build.js';
import { VERSION } from '../../version.js';

/** Options of the `openwhisk` section. */
export interface OpenWhiskOptions extends ImageOptions {
  /** The API host, e.g. `https://openwhisk.example.com` (`wsk property get --apihost`). @default none (required) */
  apiHost?: string;
  /** `uuid:key` of the namespace (`wsk property get --auth`). @default $__OW_API_KEY */
  auth?: string;
  /** The namespace. @default '_' (the key's own) */
  namespace?: string;
  /** The action's name. @default `burst-worker-<major>-<minor>` */
  action?: string;
  /** Activations submitted at once by this client. @default 16 */
  concurrency?: number;
  /** How long throttled (429) invocations keep being retried, in seconds. @default 300 */
  retryDeadlineSeconds?: number;
  /** The action's memory limit in MB (`burst runtime deploy`). @default runtimeMemory, else 1024 */
  memoryMB?: number;
  /** The action's time limit in seconds (`burst runtime deploy`). @default 600 */
  timeoutSeconds?: number;
  /** Push the image in `burst runtime deploy`. @default true */
  push?: boolean;
  /** Build the image in `burst runtime deploy`. @default true */
  build?: boolean;
}

/** The action name used when none is given: one per minor version. */
export const defaultActionName = (): string => `burst-worker-${VERSION.split('.').slice(0, 2).join('-')}`;

/** The schema of {@link OpenWhiskOptions}. */
export function openWhiskSchema(z: ZodNamespace) {
  const p = parts(z);
  return z.object({
    image: p.str(),
    builder: p.oneOf(['docker', 'podman']),
    buildArgs: p.strings(),
    baseImage: p.str(),
    apiHost: p.url(),
    auth: z
      .string({ error: 'a "uuid:key" string' })
      .regex(/^[^:]+:.+$/, { error: 'a "uuid:key" string' })
      .optional(),
    namespace: p.str(),
    action: z
      .string({ error: 'an action name (letters, digits, "-", "_", "@", ".")' })
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_@.-]{0,255}$/, { error: 'an action name (letters, digits, "-", "_", "@", ".")' })
      .optional(),
    concurrency: p.posInt(),
    retryDeadlineSeconds: p.seconds(),
    memoryMB: p.posInt(),
    timeoutSeconds: p.posInt(),
    push: p.bool(),
    build: p.bool(),
  });
}
