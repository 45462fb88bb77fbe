/**
 * Platform SDKs that only `burst runtime deploy|list|delete` for one platform needs (the Kubernetes
 * client, Google's Cloud Run client) are optional peer dependencies: a user of localhost or Slurm
 * never downloads them. This imports one, or says exactly what to install.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../errors.js';

/** The version range Burst was tested with, from its package.json's peerDependencies. */
function testedRange(name: string): string | undefined {
  const pkg = createRequire(import.meta.url)('../../package.json') as { peerDependencies?: Record<string, string> };
  return pkg.peerDependencies?.[name];
}

/**
 * Imports `name`; when it is not installed, throws a {@link ConfigError} naming the package, the
 * version to install and what needs it.
 */
export async function importOptional<T>(name: string, load: () => Promise<T>, neededFor: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    const range = testedRange(name);
    throw new ConfigError(
      `${neededFor} needs the package ${name}, which is not installed: run "npm install ${name}${range ? `@${range}` : ''}" in your project`,
      { cause: err },
    );
  }
}
