/**
 * `burst hello`: the first thing a new user types. Runs a tiny map on the configured backend and
 * storage and prints the results, how long it took and where each call ran.
 */
import type { Command } from 'commander';
import { columns, loadCliConfig, openStorage, out, positiveInt, printJson, withConfigOption } from './client-config.js';

interface HelloFlags {
  config?: string;
  calls?: string;
  timeout?: string;
  json?: boolean;
}

/** Adds `burst hello` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command('hello')
    .description(
      'Run a tiny map on the configured backend and storage: prints the results, the time and where each call ran',
    )
    .option('-n, --calls <n>', 'number of calls', '4')
    .option('--timeout <seconds>', 'give up after this many seconds', '120')
    .option('--json', 'print the results and where they ran as JSON')
    .addHelpText(
      'after',
      '\nThe backend and storage come from the configuration (see `burst config show`).\nIf this fails, `burst test` says which part fails.',
    );
  withConfigOption(cmd).action(async (flags: HelloFlags) => hello(flags));
}

async function hello(flags: HelloFlags): Promise<void> {
  const calls = positiveInt(flags.calls, '--calls', 4);
  const timeout = positiveInt(flags.timeout, '--timeout', 120);
  const loaded = await loadCliConfig(flags);
  const [{ FunctionExecutor }, { helloTask }] = await Promise.all([
    import('../executor/executor.js'),
    import('./hello-task.js'),
  ]);
  const where = await openStorage(loaded.options);
  await where.close();
  const fexec = new FunctionExecutor({ ...loaded.options, progress: false });
  const backend = loaded.options.backend ?? 'localhost';
  try {
    const t0 = Date.now();
    const inputs = Array.from({ length: calls }, (_, i) => i + 1);
    const futures = await fexec.map(helloTask, inputs);
    const results = await fexec.getResult(futures, { timeout });
    const seconds = (Date.now() - t0) / 1000;
    const hosts = [...new Set(results.map((r) => r.hostname))];
    const processes = new Set(results.map((r) => `${r.hostname}:${r.pid}`)).size;
    if (flags.json) {
      printJson({
        backend,
        storage: where.label,
        bucket: where.bucket,
        executorId: fexec.executorId,
        jobId: futures[0]?.jobId,
        seconds,
        results: results.map((r) => r.output),
        calls: Array.from(futures, (f, i) => ({
          callId: f.callId,
          input: inputs[i],
          output: results[i]?.output,
          hostname: f.stats.hostname,
          pid: f.stats.pid,
          cold: f.stats.cold ?? false,
        })),
      });
      return;
    }
    out(
      `Hello from Burst: ${calls} calls of x => x * x on ${backend}, data in ${where.label} (bucket "${where.bucket}")`,
    );
    out();
    const rows = [['call', 'input', 'output', 'host', 'pid', 'start', 'ran in']];
    futures.forEach((f, i) => {
      const r = results[i];
      const s = f.stats;
      const ran = s.fnStart !== undefined && s.fnEnd !== undefined ? `${Math.max(0, s.fnEnd - s.fnStart)} ms` : '';
      rows.push([
        String(f.callId),
        String(inputs[i]),
        String(r?.output),
        r?.hostname ?? '',
        String(r?.pid ?? ''),
        s.cold ? 'cold' : 'warm',
        ran,
      ]);
    });
    for (const line of columns(rows)) out(`  ${line}`);
    out();
    out(`Results: [ ${results.map((r) => r.output).join(', ')} ]`);
    out(
      `${calls} calls in ${seconds.toFixed(2)} s on ${hosts.length === 1 ? `host ${hosts[0]}` : `${hosts.length} hosts`}, ${processes} worker process${processes === 1 ? '' : 'es'} (executor ${fexec.executorId}, job ${futures[0]?.jobId}).`,
    );
    out('Next: `burst test` checks storage and backend in detail; the README shows how to run your own function.');
  } finally {
    await fexec.close();
  }
}
