#!/usr/bin/env node
/**
 * The `burst` command. Each subcommand lives in its own file and exports `register(program)`;
 * subcommand modules are imported lazily so `burst worker run` does not load client-only code.
 */
import { Command } from 'commander';
import { redactText } from '../redact.js';

type Registrar = (program: Command) => void;

/** Subcommands by name; each loads its module only when that subcommand is used. */
const subcommands: Record<string, () => Promise<{ register: Registrar }>> = {
  worker: () => import('./worker.js'),
  storage: () => import('./storage.js'),
  hello: () => import('./hello.js'),
  test: () => import('./test.js'),
  run: () => import('./run.js'),
  config: () => import('./config.js'),
  jobs: () => import('./jobs.js'),
  logs: () => import('./logs.js'),
  clean: () => import('./clean.js'),
  plot: () => import('./plot.js'),
  dashboard: () => import('./dashboard.js'),
  runtime: () => import('./runtime.js'),
};

/**
 * A reader that closes the pipe early (`burst storage ls | head`) ends the command quietly with exit
 * code 0, as Unix tools do, instead of an EPIPE stack trace.
 */
function quietOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`burst: cannot write to standard output: ${err.message}\n`);
    process.exit(1);
  });
}

async function main(argv: string[]): Promise<void> {
  if (argv[2] !== 'worker') quietOnClosedStdout(); // a worker's exit code must say what happened
  const program = new Command('burst')
    .description('Run a function over many inputs in parallel, on this machine or a cluster.')
    .version((await import('../version.js')).VERSION, '-V, --version', 'print the version of burst-compute')
    .showHelpAfterError()
    .exitOverride();
  const name = argv[2];
  const wanted = name && subcommands[name] ? [name] : Object.keys(subcommands);
  for (const n of wanted) {
    const loader = subcommands[n];
    if (loader) (await loader()).register(program);
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === 'number' && (err as { code?: string }).code?.startsWith('commander.')) {
      process.exitCode = code;
      return;
    }
    throw err;
  }
}

main(process.argv).catch((err: unknown) => {
  const e = err as { name?: string; code?: string; message?: string };
  // Burst's own errors are redacted when made; this also covers errors of libraries (SDKs, fetch).
  process.stderr.write(
    redactText(`burst: ${e.name ?? 'Error'}${e.code ? ` [${e.code}]` : ''}: ${e.message ?? String(err)}\n`),
  );
  if (process.env.BURST_LOG === 'debug' && err instanceof Error) process.stderr.write(redactText(`${err.stack}\n`));
  process.exitCode = 1;
});
