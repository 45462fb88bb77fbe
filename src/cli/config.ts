/**
 * `burst config show | path | init`: the effective configuration (with where each key came from and
 * secrets hidden), the config file in use, and a commented starter file.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { configFilePath, configSearchPath, redactConfig, userConfigPath } from '../config/load.js';
import { defaults } from '../config/defaults.js';
import { backendNames } from '../backends/index.js';
import { configStorages } from './config-init.js';
import { columns, loadCliConfig, out, printJson, withConfigOption } from './client-config.js';

/** Adds `burst config` to the program. */
export function register(program: Command): void {
  const config = program.command('config').description('Show, locate or create the Burst configuration');
  withConfigOption(
    config
      .command('show')
      .description(
        'Print the effective configuration: built-in defaults, the config file, BURST_* variables (secrets, header and env values hidden)',
      )
      .option('--json', 'print the options as JSON'),
  ).action(async (flags: { config?: string; json?: boolean }) => show(flags));
  config
    .command('path')
    .description('Print the path of the config file in use (exit code 1 when there is none)')
    .action(() => {
      const path = configFilePath();
      if (path) return out(path);
      process.stderr.write(
        `no config file; looked for:\n${configSearchPath()
          .map((p) => `  ${p}`)
          .join('\n')}\nCreate one with \`burst config init\`.\n`,
      );
      process.exitCode = 1;
    });
  config
    .command('init')
    .description('Write a commented starter config file, asking for the backend and storage when run in a terminal')
    .option('--backend <name>', `where calls run: ${backendNames().join(', ')} (default: ask, or localhost)`)
    .option('--storage <name>', `where data lives: ${configStorages().join(', ')} (default: ask, or fs)`)
    .option('--endpoint <url>', 'S3 endpoint URL, with --storage s3 (default: ask, or AWS)')
    .option('--format <format>', 'json (JSON with comments) or ts', 'json')
    .option('--global', `write ${userConfigPath()} instead of ./burst.config.<format>`)
    .option('--force', 'overwrite an existing file')
    .action(async (flags: InitFlags, cmd: Command) => {
      const { initConfig } = await import('./config-init.js');
      await initConfig(flags, (message) => cmd.error(`error: ${message}`));
    });
}

/** Flags of `burst config init`. */
export interface InitFlags {
  backend?: string;
  storage?: string;
  endpoint?: string;
  format: string;
  global?: boolean;
  force?: boolean;
}

async function show(flags: { config?: string; json?: boolean }): Promise<void> {
  const loaded = await loadCliConfig(flags);
  const effective: Record<string, unknown> = {
    backend: defaults.backend,
    storage: defaults.storage,
    bucket: defaults.bucket,
    workers: availableParallelism(),
    timeout: defaults.timeout,
    retries: defaults.retries,
    progress: defaults.progress,
    ...loaded.options,
  };
  const safe = redactConfig(effective);
  if (flags.json) {
    printJson({ file: loaded.file ?? null, options: safe, origins: loaded.origins, warnings: loaded.warnings });
    return;
  }
  out(
    loaded.file
      ? `Config file: ${loaded.file}`
      : 'Config file: none (built-in defaults; create one with `burst config init`)',
  );
  out();
  const rows = [['key', 'value', 'from']];
  for (const [path, value] of leaves(safe)) {
    rows.push([path, JSON.stringify(value), loaded.origins[path] ?? (path.includes('.') ? '' : 'default')]);
  }
  for (const line of columns(rows)) out(`  ${line}`);
  const original = new Map(leaves(effective).map(([p, v]) => [p, JSON.stringify(v)]));
  const secrets = leaves(safe).filter(([p, v]) => original.get(p) !== JSON.stringify(v)).length;
  if (secrets > 0)
    out(
      `\n  (${secrets} secret value${secrets === 1 ? '' : 's'} hidden as "***": keys, tokens, header and env values, URL passwords and signatures)`,
    );
}

function leaves(o: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(o).flatMap(
    ([k, v]): Array<[string, unknown]> =>
      typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0
        ? leaves(v as Record<string, unknown>, `${prefix}${k}.`)
        : [[`${prefix}${k}`, v]],
  );
}
