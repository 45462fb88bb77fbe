/**
 * The flags every example takes to choose where it runs (--backend, --storage, --workers, --config),
 * so moving an example to a cluster is a flag, not a code change.
 */
import type { ExecutorOptions } from 'burst-compute';

/** `node:util` parseArgs option specs of the shared flags (and --help). */
export const executorFlags = {
  backend: { type: 'string' },
  storage: { type: 'string' },
  workers: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Executor options from the shared flags, plus `extra`; exits naming --workers when it is not a positive integer. */
export function executorOptions(flags: { backend?: string; storage?: string; workers?: string; config?: string }, extra: ExecutorOptions = {}): ExecutorOptions {
  const options: ExecutorOptions = { backend: flags.backend, storage: flags.storage, config: flags.config, ...extra };
  if (flags.workers !== undefined) {
    const n = Number(flags.workers);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`--workers must be a positive integer, got ${flags.workers}`);
      process.exit(2);
    }
    options.workers = n;
  }
  return options;
}
