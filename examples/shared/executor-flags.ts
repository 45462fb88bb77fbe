/**
 * The flags every example takes to choose where it runs (--backend, --storage, --workers, --config),
 * so moving an example to a cluster is a flag, not a code change, and one way to read them: --help
 * prints the example's usage, an unknown flag prints what went wrong and the usage (exit code 2).
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

/** The usage lines of {@link executorFlags}, for the end of an example's help text. */
export const executorFlagsHelp = `  --backend NAME   localhost (default), slurm, aws_lambda, knative, cloudrun, code_engine, k8s, openwhisk
  --storage NAME   fs (default) or s3
  --workers W      localhost worker processes        (default: one per core)
  --config FILE    a Burst config file (S3 endpoint, Slurm partition, service URL, ...)
  -h, --help       print this help
`;

/**
 * Runs `parse` (a `parseArgs` call that includes {@link executorFlags}); prints `help` and exits 0 on
 * --help; prints the parse error and `help` to stderr and exits 2 on an unknown or malformed flag.
 */
export function parseFlags<T extends { values: { help?: boolean | undefined } }>(
  help: string,
  parse: () => T,
): T['values'] {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw err;
    process.stderr.write(`${(err as Error).message}\n\n${help}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(help);
    process.exit(0);
  }
  return parsed.values;
}

/** Executor options from the shared flags, plus `extra`; exits naming --workers when it is not a positive integer. */
export function executorOptions(
  flags: { backend?: string; storage?: string; workers?: string; config?: string },
  extra: ExecutorOptions = {},
): ExecutorOptions {
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
