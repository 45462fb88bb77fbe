/**
 * `burst worker run`: the entry that every remote backend launches. It needs only the storage
 * configuration (from `--storage-config` or the BURST_STORAGE_CONFIG variable), a job key and call ids.
 * `burst worker serve`: the same work behind HTTP, for container platforms (see worker/entries/http.ts).
 */
import type { Command } from 'commander';
import { keys } from '../job/layout.js';
import { parseCallSpec } from '../worker/call-spec.js';
import { envStorageConfig, parseStorageConfig } from '../worker/storage-config.js';
import { ConfigError } from '../errors.js';

/** Adds `burst worker` to the program. */
export function register(program: Command): void {
  const worker = program
    .command('worker')
    .description('Run calls of a job stored in storage (what backends launch on their nodes)');
  worker
    .command('run')
    .description('Run the given calls of a job and write their status and results to storage')
    .requiredOption('--job <key>', `the job key in storage, e.g. ${keys.job('<executor>', '<job>')}`)
    .requiredOption('--calls <list>', 'call ids, e.g. 0-99,105')
    .option('--bucket <name>', 'the bucket of Burst data', 'burst')
    .option('--attempt <n>', 'attempt number (1 for a first run)', '1')
    .option('--task-index <i>', 'run only the i-th chunk of the call list (e.g. $SLURM_ARRAY_TASK_ID)')
    .option('--chunksize <k>', 'calls per chunk, with --task-index', '1')
    .option('--workers <n>', 'worker processes on this host', '1')
    .option('--storage-config <json>', 'storage configuration as JSON (default: $BURST_STORAGE_CONFIG)')
    .action(async (opts: Record<string, string | undefined>) => {
      const config = opts.storageConfig
        ? parseStorageConfig(opts.storageConfig, '--storage-config')
        : envStorageConfig();
      if (!config)
        throw new ConfigError('no storage configuration: pass --storage-config or set BURST_STORAGE_CONFIG', {
          keyPath: '--storage-config',
        });
      let callIds = parseCallSpec(opts.calls as string);
      if (opts.taskIndex !== undefined) {
        const k = positive(opts.chunksize, '--chunksize');
        const i = Number(opts.taskIndex);
        if (!Number.isInteger(i) || i < 0)
          throw new ConfigError(`--task-index must be a non-negative integer, got ${opts.taskIndex}`, {
            keyPath: '--task-index',
          });
        callIds = callIds.slice(i * k, (i + 1) * k);
        if (callIds.length === 0)
          throw new ConfigError(`--task-index ${i} selects no calls from ${opts.calls} in chunks of ${k}`, {
            keyPath: '--task-index',
          });
      }
      const [{ openStorageConfig }, { runCalls }] = await Promise.all([
        import('../storage/index.js'),
        import('../worker/handler.js'),
      ]);
      const storage = await openStorageConfig(config);
      try {
        const r = await runCalls({
          storage,
          bucket: opts.bucket as string,
          jobKey: opts.job as string,
          callIds,
          attempt: positive(opts.attempt, '--attempt'),
          workers: positive(opts.workers, '--workers'),
        });
        process.stderr.write(`burst worker: ${r.succeeded} succeeded, ${r.failed} failed (job ${opts.job})\n`);
      } finally {
        await storage.close?.();
      }
    });

  worker
    .command('job')
    .description(
      'Run the chunk of a Kubernetes Indexed Job pod ($JOB_COMPLETION_INDEX), described by the BURST_* variables the k8s backend sets',
    )
    .action(async () => {
      const { runIndexedJob } = await import('../worker/entries/k8s-job.js');
      process.exitCode = await runIndexedJob();
    });

  worker
    .command('openwhisk')
    .description('Serve the OpenWhisk action protocol (POST /init, POST /run) on $PORT (else 8080): a blackbox action')
    .action(async () => {
      const { serveOpenWhisk } = await import('../worker/entries/openwhisk.js');
      await serveOpenWhisk();
    });

  worker
    .command('serve')
    .description(
      'Serve POST /invoke on $PORT and run the calls each request names (the Knative / Cloud Run / Code Engine worker). Needs BURST_SERVE_TOKEN, BURST_SIGNING_KEY and its storage, or --insecure (loopback only)',
    )
    .option('--port <n>', 'TCP port (default: $PORT, else 8080)')
    .option('--host <addr>', 'address to listen on (default: 0.0.0.0; 127.0.0.1 with --insecure)')
    .option(
      '--concurrency <n>',
      'requests run at once; one more is answered 429 (default: $BURST_SERVE_CONCURRENCY, else the CPU count)',
    )
    .option('--workers <n>', 'worker processes per request (default: $BURST_SERVE_WORKERS, else 1)')
    .option('--max-body-bytes <n>', 'largest request body accepted', String(64 * 1024))
    .option('--max-calls <n>', 'most calls one request may name', '10000')
    .option(
      '--storage-config <json>',
      'the storage jobs are read from (default: $BURST_STORAGE_CONFIG); requests never name storage',
    )
    .option('--bucket <names>', 'buckets requests may name, comma-separated (default: $BURST_SERVE_BUCKETS, else any)')
    .option('--insecure', 'start without BURST_SERVE_TOKEN and BURST_SIGNING_KEY, listening on a loopback address only')
    .option(
      '--allow-unsigned-jobs',
      'run jobs without a signature although no BURST_SIGNING_KEY is set (whoever can write the storage runs code); also $BURST_SERVE_ALLOW_UNSIGNED_JOBS=1',
    )
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const text = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
      const port = text(opts.port) ?? process.env.PORT;
      const concurrency = text(opts.concurrency) ?? process.env.BURST_SERVE_CONCURRENCY;
      const workers = text(opts.workers) ?? process.env.BURST_SERVE_WORKERS;
      const buckets = text(opts.bucket) ?? process.env.BURST_SERVE_BUCKETS;
      const storageConfig = text(opts.storageConfig);
      const { serve } = await import('../worker/entries/http.js');
      const log = (line: string): void => void process.stderr.write(`${line}\n`);
      const handle = await serve({
        port: port === undefined ? 8080 : nonNegative(port, '--port'),
        maxBodyBytes: positive(text(opts.maxBodyBytes), '--max-body-bytes'),
        maxCallsPerRequest: positive(text(opts.maxCalls), '--max-calls'),
        log,
        ...(text(opts.host) ? { host: text(opts.host) as string } : {}),
        ...(opts.insecure === true ? { insecure: true } : {}),
        ...(opts.allowUnsignedJobs === true || process.env.BURST_SERVE_ALLOW_UNSIGNED_JOBS === '1'
          ? { allowUnsignedJobs: true }
          : {}),
        ...(buckets
          ? {
              buckets: buckets
                .split(',')
                .map((b) => b.trim())
                .filter(Boolean),
            }
          : {}),
        ...(concurrency !== undefined ? { concurrency: positive(concurrency, '--concurrency') } : {}),
        ...(workers !== undefined ? { workers: positive(workers, '--workers') } : {}),
        ...(storageConfig ? { storage: parseStorageConfig(storageConfig, '--storage-config') } : {}),
      });
      const guards = [
        process.env.BURST_SERVE_TOKEN ? 'bearer token required' : 'NO TOKEN (--insecure)',
        process.env.BURST_SIGNING_KEY ? 'signed jobs only' : 'unsigned jobs accepted',
      ];
      log(`burst worker serve: listening on ${handle.host}:${handle.port} (${guards.join(', ')})`);
      // SIGTERM is how Knative and Cloud Run scale an instance in: finish what runs, refuse the rest.
      // The listeners stay installed: with `once`, the signal's default action (exit) would return for
      // an instant before the drain installs its own "second signal cancels" listener.
      await new Promise<void>((resolve) => {
        let received = 0;
        const stop = (signal: string): void => {
          received += 1;
          if (received === 1) {
            const closed = handle.close();
            log(`burst worker serve: ${signal}: finishing ${handle.inFlight} request(s), refusing new ones`);
            void closed.then(resolve);
          } else if (received > 2) {
            // The second signal cancelled the calls (the server's own listener); a third does not wait.
            log(`burst worker serve: ${signal} a third time: exiting now`);
            process.exit(1);
          }
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
      log('burst worker serve: stopped');
    });
}

function positive(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${name} must be a positive integer, got ${value}`, { keyPath: name });
  return n;
}

function nonNegative(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${name} must be a non-negative integer, got ${value}`, { keyPath: name });
  return n;
}
