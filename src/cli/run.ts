/**
 * `burst run script.ts [args...]`: runs a TypeScript or JavaScript script with Burst available and no
 * build step. It starts Node with tsx (resolved from Burst's own install, so the user needs neither
 * tsx nor a build) and with ./run-preload.ts, which makes `import 'burst-compute'` resolve to this copy of
 * Burst when the script's folder has none. Everything after the script goes to the script; the
 * script's exit code becomes ours.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';

/** Adds `burst run` to the program. */
export function register(program: Command): void {
  // Options after the script belong to the script: commander passes them through only when the
  // parent parses options positionally.
  program.enablePositionalOptions();
  program
    .command('run')
    .description('Run a TypeScript or JavaScript script with Burst available (no build step)')
    .argument('<script>', 'the .ts, .mts, .js or .mjs file to run')
    .argument('[args...]', 'arguments passed to the script (process.argv.slice(2))')
    .passThroughOptions()
    .addHelpText(
      'after',
      "\nInside the script `import { FunctionExecutor } from 'burst'` works even where Burst is not installed.\nExample: burst run main.ts --size 1000",
    )
    .action(async (script: string, args: string[], _opts: unknown, cmd: Command) => {
      const path = resolve(script);
      if (!existsSync(path) || !statSync(path).isFile()) cmd.error(`error: cannot find the script ${path}`);
      process.exitCode = await runScript(path, args);
    });
}

/** Runs the script in a child Node process and resolves with its exit code (128 + n for signal n). */
export function runScript(path: string, args: readonly string[]): Promise<number> {
  const preload = new URL(import.meta.url.endsWith('.ts') ? './run-preload.ts' : './run-preload.js', import.meta.url)
    .href;
  const tsx = import.meta.resolve('tsx');
  const env = { ...process.env };
  if (runsAsModule(path)) env.BURST_RUN_ESM_ENTRY = pathToFileURL(path).href;
  const child = spawn(process.execPath, ['--import', tsx, '--import', preload, path, ...args], {
    stdio: 'inherit',
    env,
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  return new Promise((resolveExit, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolveExit(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1));
    });
  });
}

/**
 * True for a `.ts`/`.js` script written with import/export whose package.json sets no "type": Node
 * would run it as CommonJS, where top-level await (common in a main script) is a syntax error.
 */
export function runsAsModule(path: string): boolean {
  if (!['.ts', '.tsx', '.js', '.jsx'].includes(extname(path))) return false;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type !== undefined) return false;
      } catch {
        return false;
      }
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return /^\s*(import[\s{*'"]|export[\s{*])/m.test(readFileSync(path, 'utf8'));
}
