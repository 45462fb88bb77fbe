/**
 * `burst dashboard`: serves a local web page that lists the executors and jobs in storage and shows a
 * running job live (calls by state, progress, the timeline filling in, failed calls with their error
 * and output). It runs until interrupted. The printed URL carries a random token that every request
 * needs (see dashboard/access.ts).
 */
import type { Command } from 'commander';
import { loadCliConfig, openStorage, out, withConfigOption } from './client-config.js';

interface DashboardFlags {
  config?: string;
  port: string;
  host: string;
}

/** Adds `burst dashboard` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('dashboard')
    .description('Serve a local web page showing the jobs in storage, and running jobs live')
    .option('-p, --port <port>', 'port to listen on (0: any free port)', '7777')
    .option(
      '--host <address>',
      'address to listen on (the page shows job data and logs: keep it local); requests must name it or a loopback name in their Host header',
      '127.0.0.1',
    );
  withConfigOption(cmd).action(async (flags: DashboardFlags, self: Command) => {
    const port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65535)
      self.error(`error: --port must be a port number (0 to 65535), got ${JSON.stringify(flags.port)}`);
    const loaded = await loadCliConfig(flags);
    const opened = await openStorage(loaded.options);
    const { startDashboard } = await import('../dashboard/server.js');
    const dashboard = await startDashboard({
      storage: opened.storage,
      bucket: opened.bucket,
      storageLabel: opened.label,
      port,
      host: flags.host,
    });
    out(`Burst dashboard: ${dashboard.url}  (storage ${opened.label}, bucket "${opened.bucket}"; Ctrl-C stops it)`);
    out("The address holds this run's access token: whoever has it can read your jobs, logs and errors.");
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await dashboard.close();
    await opened.close();
  });
}
