/**
 * The built-in compute backends, one line each. The registry, `ExecutorOptions`' backend sections,
 * the config schema, the environment variables and `burst runtime` all derive from this list: a new
 * backend is its folder (`backends/<name>/index.ts` exporting a definition) plus one line here.
 */
import { awsLambdaBackend } from './aws_lambda/index.js';
import { cloudRunBackend } from './cloudrun/index.js';
import { codeEngineBackend } from './code_engine/index.js';
import type { BackendOptionsOf } from './definition.js';
import { k8sBackend } from './k8s/index.js';
import { knativeBackend } from './knative/index.js';
import { localhostBackend } from './localhost/index.js';
import { openWhiskBackend } from './openwhisk/index.js';
import { slurmBackend } from './slurm/index.js';

/** The definitions of the built-in backends, in the order `burst config init` offers them. */
export const builtinBackends = [
  localhostBackend,
  slurmBackend,
  knativeBackend,
  cloudRunBackend,
  codeEngineBackend,
  awsLambdaBackend,
  k8sBackend,
  openWhiskBackend,
] as const;

/** The options of each built-in backend by name (`{ slurm: SlurmOptions, … }`). */
export type BuiltinBackendOptions = { [D in (typeof builtinBackends)[number] as D['name']]: BackendOptionsOf<D> };
