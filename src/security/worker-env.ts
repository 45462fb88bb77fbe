/**
 * The environment of the processes that run user functions: the worker's own, less the secrets a
 * worker is started with (its bearer token, its storage configuration, the job signing key). A user
 * function that read them could call the worker as a client, or forge signed jobs.
 */

/** Variables a worker keeps to itself. */
export const WORKER_SECRETS = ['BURST_SERVE_TOKEN', 'BURST_STORAGE_CONFIG', 'BURST_SIGNING_KEY'] as const;

/** A copy of `env` without {@link WORKER_SECRETS}. */
export function userFunctionEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of WORKER_SECRETS) delete out[name];
  return out;
}
