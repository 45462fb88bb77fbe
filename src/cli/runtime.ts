/**
 * `burst runtime build|deploy|list|delete`: the runtimes serverless backends run on (a Lambda
 * function and layer, a worker container image and its Knative service). The backend comes from
 * `--backend` or the configuration; each backend's {@link RuntimeManager} does the work.
 */
import type { Command } from 'commander';
import type { BurstConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { RuntimeCommandOptions, RuntimeInfo } from '../runtime/types.js';
import { columns, loadCliConfig, out, positiveInt, printJson, withConfigOption } from './client-config.js';

interface RuntimeFlags {
  config?: string;
  backend?: string;
  memory?: string;
  dir?: string;
  json?: boolean;
  all?: boolean;
}

/** Adds `burst runtime` to the program. */
export function register(program: Command): void {
  const runtime = program
    .command('runtime')
    .description('Build, deploy, list and delete the runtimes of serverless backends');
  const common = (cmd: Command): Command =>
    withConfigOption(
      cmd.option('--backend <name>', 'the backend (default: the configured one)').option('--json', 'print JSON'),
    );

  common(
    runtime
      .command('build')
      .description('Build the runtime artefact (a container image, a layer) without deploying it')
      .argument('[name]', 'runtime name')
      .option('--memory <mb>', 'memory in MB')
      .option('--dir <path>', 'project folder whose package.json dependencies go in', process.cwd()),
  ).action(async (name: string | undefined, flags: RuntimeFlags) => {
    const { manager, options } = await prepare(name, flags);
    if (!manager.build)
      throw new ConfigError(`the ${options.backend} backend has nothing to build; use "burst runtime deploy"`, {
        keyPath: 'backend',
        backend: options.backend,
      });
    const where = await manager.build(options.command);
    if (flags.json) printJson({ built: where });
    else out(where);
  });

  common(
    runtime
      .command('deploy')
      .description('Create or update a runtime')
      .argument('[name]', 'runtime name')
      .option('--memory <mb>', 'memory in MB')
      .option('--dir <path>', 'project folder whose package.json dependencies go in', process.cwd()),
  ).action(async (name: string | undefined, flags: RuntimeFlags) => {
    const { manager, options } = await prepare(name, flags);
    // Container services get the client's storage as their own (requests never carry it).
    const config = (await loadCliConfig(flags)).options as BurstConfig & Record<string, unknown>;
    const storageName = typeof config.storage === 'string' ? config.storage : 'fs';
    const section = config[storageName];
    const driver = await (await import('../storage/index.js')).createStorage(
      storageName,
      typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : undefined,
    );
    const info = await manager.deploy({ ...options.command, storage: driver.config });
    await driver.close?.();
    if (flags.json) printJson(info);
    else print([info]);
  });

  common(runtime.command('list').description('List the runtimes Burst deployed')).action(
    async (flags: RuntimeFlags) => {
      const { manager, options } = await prepare(undefined, flags);
      const infos = await manager.list(options.command);
      if (flags.json) printJson(infos);
      else print(infos);
    },
  );

  common(
    runtime
      .command('delete')
      .description('Delete a runtime, or with --all every runtime Burst deployed')
      .argument('[name]', 'runtime name')
      .option('--all', 'delete every runtime Burst deployed on this backend'),
  ).action(async (name: string | undefined, flags: RuntimeFlags, self: Command) => {
    if (!name && !flags.all) self.error('error: name a runtime, or pass --all to delete every runtime Burst deployed');
    if (name && flags.all) self.error('error: pass a name or --all, not both');
    const { manager, options } = await prepare(name, flags);
    const removed = await manager.delete(options.command);
    if (flags.json) printJson({ removed });
    else out(removed.length ? `removed ${removed.join(', ')}` : 'nothing to remove');
  });
}

async function prepare(
  name: string | undefined,
  flags: RuntimeFlags,
): Promise<{
  manager: import('../runtime/types.js').RuntimeManager;
  options: { backend: string; command: RuntimeCommandOptions };
}> {
  const { options } = await loadCliConfig(flags);
  const config = options as BurstConfig & Record<string, unknown>;
  const backend = flags.backend ?? config.backend ?? 'localhost';
  const { runtimeManager } = await import('../runtime/index.js');
  const manager = await runtimeManager(backend);
  const section = config[backend];
  const memoryMB = flags.memory !== undefined ? positiveInt(flags.memory, '--memory', 0) : config.runtimeMemory;
  const command: RuntimeCommandOptions = {
    backendOptions: typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {},
    projectDir: flags.dir ?? process.cwd(),
    bucket: config.bucket ?? 'burst',
    log: (line) => process.stderr.write(`${line}\n`),
    ...(name ? { name } : {}),
    ...(memoryMB ? { memoryMB } : {}),
  };
  return { manager, options: { backend, command } };
}

function print(infos: RuntimeInfo[]): void {
  if (infos.length === 0) return out('no runtimes');
  const rows = [
    ['NAME', 'BACKEND', 'MEMORY', 'VERSION', 'LOCATION'],
    ...infos.map((i) => [
      i.name,
      i.backend,
      i.memoryMB ? `${i.memoryMB} MB` : '-',
      i.burstVersion ?? '-',
      i.location ?? '-',
    ]),
  ];
  for (const line of columns(rows)) out(line);
}
