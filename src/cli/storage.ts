/**
 * `burst storage ls | put | get | rm | cat | mb | rb`: object storage from the command line.
 *
 * Locations are URIs (`s3://bucket/key`, `fs://bucket/key`, `file:///path`), local paths as `map`
 * takes them (`./data/`, `/abs/path`), or `bucket/key` on the configured storage. A URI without a
 * bucket (`s3://`) or no location at all lists the buckets. Settings come from the configuration as
 * for every other command ({@link loadCliConfig}: config file, BURST_* variables), then the flags.
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import {
  downloadFile,
  forEachLimit,
  planDownload,
  planUpload,
  uploadFile,
  type DownloadItem,
  type UploadItem,
} from '../storage/local-transfer.js';
import { defaults } from '../config/defaults.js';
import type { BurstConfig } from '../config/schema.js';
import type { ListEntry, ObjectInfo, StorageDriver } from '../storage/types.js';
import {
  driverForScheme,
  formatStorageUri,
  isLocalPath,
  isStorageUri,
  parseStorageUri,
  type StorageLocation,
  type UriDefaults,
} from '../storage/uri.js';
import { loadCliConfig, type FlagOverrides } from './client-config.js';

/** The flags every `burst storage` subcommand accepts. */
interface StorageFlags {
  config?: string;
  storage?: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  pathStyle?: boolean;
  root?: string;
}

/** The configuration keys the `burst storage` flags set. */
export function storageFlagOverrides(flags: StorageFlags): FlagOverrides {
  return {
    storage: ['--storage', flags.storage],
    's3.endpoint': ['--endpoint', flags.endpoint],
    's3.region': ['--region', flags.region],
    's3.profile': ['--profile', flags.profile],
    's3.forcePathStyle': [flags.pathStyle ? '--path-style' : '--no-path-style', flags.pathStyle],
    'fs.root': ['--root', flags.root],
  };
}

/**
 * Where locations without a scheme go, and the options of each driver: the configured storage and the
 * driver sections of the configuration (`s3`, `fs`, ...), exactly what the executor uses.
 */
export function storageSettings(options: BurstConfig): { defaultScheme: string; uriDefaults: UriDefaults } {
  const uriDefaults: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options as Record<string, unknown>))
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) uriDefaults[k] = v;
  return { defaultScheme: options.storage ?? defaults.storage, uriDefaults: uriDefaults as UriDefaults };
}

/** Resolves location arguments to drivers, creating one driver per scheme and closing them at the end. */
class Locations {
  private readonly drivers = new Map<string, Promise<StorageDriver>>();
  constructor(readonly settings: ReturnType<typeof storageSettings>) {}

  /**
   * A URI, a local path (as `map` takes it), or `bucket/key` on the configured storage. Commands that
   * write or delete (`put` destinations, `rm`, `mb`, `rb`) pass `writes` and refuse plain local paths:
   * `rm -r /home/` must never mean the user's home folder by accident (a `file://` URL says it).
   */
  parse(arg: string, writes?: 'put' | 'rm' | 'mb' | 'rb'): StorageLocation {
    if (writes && !isStorageUri(arg) && isLocalPath(arg)) {
      throw new ConfigError(
        `${JSON.stringify(arg)} is a local path: burst storage ${writes} works on storage locations (s3://bucket/key, fs://bucket/key, bucket/key); write file://${arg.startsWith('/') ? arg : '/abs/path'} to mean local files`,
        { keyPath: 'location' },
      );
    }
    if (isStorageUri(arg) || isLocalPath(arg)) return parseStorageUri(arg);
    return parseStorageUri(`${this.settings.defaultScheme}://${arg}`);
  }

  driver(scheme: string): Promise<StorageDriver> {
    let d = this.drivers.get(scheme);
    if (!d) {
      d = driverForScheme(scheme, this.settings.uriDefaults);
      this.drivers.set(scheme, d);
    }
    return d;
  }

  async close(): Promise<void> {
    await Promise.all([...this.drivers.values()].map(async (d) => (await d.catch(() => undefined))?.close?.()));
  }
}

/** Runs a subcommand body with the locations of its flags, closing drivers afterwards. */
async function withLocations(
  cmd: Command,
  body: (loc: Locations, flags: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  const flags = cmd.optsWithGlobals() as StorageFlags & Record<string, unknown>;
  const loaded = await loadCliConfig(flags, storageFlagOverrides(flags));
  const locations = new Locations(storageSettings(loaded.options));
  try {
    await body(locations, flags);
  } finally {
    await locations.close();
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A listing line; local files are shown by their absolute path, objects by their key. */
function lsLine(e: ListEntry, where: StorageLocation): string {
  const name = (key: string): string => (where.scheme === 'file' ? `/${where.bucket}/${key}` : key);
  if ('prefix' in e) return `${'PRE'.padStart(30)} ${name(e.prefix)}`;
  const date = e.lastModified ? e.lastModified.toISOString().replace('T', ' ').slice(0, 19) : ''.padEnd(19);
  return `${date} ${String(e.size).padStart(10)} ${name(e.key)}`;
}

/** A URI with a scheme and no bucket (`s3://`), or nothing: the buckets are listed. */
const BUCKETS_ONLY = /^([a-z][a-z0-9+.-]*):\/\/\/?$/i;

async function lsBuckets(loc: Locations, scheme: string, flags: Record<string, unknown>): Promise<void> {
  const driver = await loc.driver(scheme);
  if (!driver.listBuckets)
    throw new ConfigError(`the ${driver.name} storage cannot list its buckets; name one: ${scheme}://<bucket>/`, {
      keyPath: 'storage',
    });
  const buckets = await driver.listBuckets();
  if (flags.json)
    return out(
      JSON.stringify(
        buckets.map((bucket) => ({ bucket })),
        null,
        1,
      ),
    );
  for (const b of buckets) out(`${'BUCKET'.padStart(30)} ${formatStorageUri({ scheme, bucket: b, key: '' })}`);
}

async function ls(loc: Locations, arg: string | undefined, flags: Record<string, unknown>): Promise<void> {
  const only = arg === undefined ? undefined : BUCKETS_ONLY.exec(arg);
  if (arg === undefined || only)
    return lsBuckets(loc, only ? (only[1] as string).toLowerCase() : loc.settings.defaultScheme, flags);
  const where = loc.parse(arg);
  const driver = await loc.driver(where.scheme);
  const entries = driver.list(where.bucket, where.key, flags.recursive ? {} : { delimiter: '/' });
  if (!flags.json) {
    for await (const e of entries) out(lsLine(e, where));
    return;
  }
  // One entry per line, streamed, and still one JSON array.
  let first = true;
  process.stdout.write('[');
  for await (const e of entries) {
    const item = 'prefix' in e ? { prefix: e.prefix } : jsonInfo(e);
    process.stdout.write(`${first ? '\n' : ',\n'}${JSON.stringify(item)}`);
    first = false;
  }
  process.stdout.write(first ? ']\n' : '\n]\n');
}

function jsonInfo(e: ObjectInfo): Record<string, unknown> {
  return {
    key: e.key,
    size: e.size,
    ...(e.etag ? { etag: e.etag } : {}),
    ...(e.lastModified ? { lastModified: e.lastModified.toISOString() } : {}),
  };
}

/** A byte progress bar on stderr, shown on a terminal (or with --progress) for transfers over 8 MiB. */
async function progressBar(
  total: number,
  files: number,
  flag: unknown,
): Promise<{ add(bytes: number): void; stop(): void }> {
  const show = flag === true || (flag !== false && process.stderr.isTTY === true && total >= 8 * 1024 * 1024);
  if (!show) return { add() {}, stop() {} };
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `{bar} {percentage}% | {done}/{size} MB | ${files} file${files === 1 ? '' : 's'} | {eta_formatted}`,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 1000,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const mb = (n: number) => (n / 1e6).toFixed(1);
  let done = 0;
  bar.start(Math.max(total, 1), 0, { done: mb(0), size: mb(total) });
  return {
    add(bytes) {
      done += bytes;
      bar.update(done, { done: mb(done), size: mb(total) });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Runs transfers with a shared progress bar; each reports its running byte count. */
async function transfer<T extends { size: number }>(
  items: T[],
  flags: Record<string, unknown>,
  run: (item: T, onProgress: (bytes: number) => void) => Promise<void>,
  done: (item: T) => void,
): Promise<void> {
  const concurrency = positiveInt(flags.concurrency, '--concurrency');
  const bar = await progressBar(
    items.reduce((n, i) => n + i.size, 0),
    items.length,
    flags.progress,
  );
  try {
    await forEachLimit(items, concurrency, async (item) => {
      let reported = 0;
      await run(item, (bytes) => {
        bar.add(bytes - reported);
        reported = bytes;
      });
      bar.add(item.size - reported);
      done(item);
    });
  } finally {
    bar.stop();
  }
}

function positiveInt(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(value)}`, { keyPath: name });
  return n;
}

async function put(loc: Locations, args: string[], flags: Record<string, unknown>): Promise<void> {
  positiveInt(flags.concurrency, '--concurrency');
  const dest = loc.parse(args[args.length - 1] as string, 'put');
  const items = await planUpload(args.slice(0, -1), dest.key);
  const driver = await loc.driver(dest.scheme);
  if (!(await driver.bucketExists(dest.bucket))) {
    throw new ConfigError(
      `bucket "${dest.bucket}" does not exist (create it with: burst storage mb ${formatStorageUri({ ...dest, key: '' })})`,
    );
  }
  await transfer<UploadItem>(
    items,
    flags,
    (item, onProgress) => uploadFile(driver, dest.bucket, item, onProgress),
    (item) => {
      if (!flags.quiet) out(`upload: ${item.path} to ${formatStorageUri({ ...dest, key: item.key })}`);
    },
  );
}

async function get(loc: Locations, source: string, destPath: string, flags: Record<string, unknown>): Promise<void> {
  positiveInt(flags.concurrency, '--concurrency');
  const from = loc.parse(source);
  const driver = await loc.driver(from.scheme);
  const items = await planDownload(driver, from.bucket, from.key, destPath);
  await transfer<DownloadItem>(
    items,
    flags,
    (item, onProgress) => downloadFile(driver, from.bucket, item, onProgress),
    (item) => {
      if (!flags.quiet) out(`download: ${formatStorageUri({ ...from, key: item.key })} to ${item.path}`);
    },
  );
}

async function rm(loc: Locations, args: string[], flags: Record<string, unknown>): Promise<void> {
  for (const arg of args) {
    const where = loc.parse(arg, 'rm');
    const driver = await loc.driver(where.scheme);
    if (!flags.recursive) {
      if (where.key === '' || where.key.endsWith('/'))
        throw new ConfigError(`${arg} names a bucket or folder: use --recursive to delete everything under it`);
      await driver.delete(where.bucket, [where.key]);
      if (!flags.quiet) out(`delete: ${formatStorageUri(where)}`);
      continue;
    }
    let batch: string[] = [];
    const flush = async () => {
      await driver.delete(where.bucket, batch);
      if (!flags.quiet) for (const k of batch) out(`delete: ${formatStorageUri({ ...where, key: k })}`);
      batch = [];
    };
    for await (const e of driver.list(where.bucket, where.key)) {
      if ('prefix' in e) continue;
      batch.push(e.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
  }
}

async function cat(loc: Locations, arg: string): Promise<void> {
  const where = loc.parse(arg);
  const driver = await loc.driver(where.scheme);
  const { pipeline } = await import('node:stream/promises');
  const stream = await driver.getStream(where.bucket, where.key);
  await pipeline(stream, process.stdout, { end: false }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err; // `burst storage cat x | head` is fine
  });
}

/** Adds `burst storage` and its subcommands to the program. */
export function register(program: Command): void {
  const storage = program
    .command('storage')
    .description('List, copy and delete objects in storage (s3://, fs://, file:// or bucket/key)')
    .option('--config <file>', 'use this config file instead of looking one up')
    .option(
      '--storage <driver>',
      'driver for bucket/key locations without a scheme (default: the configured storage, else fs)',
    )
    .option(
      '--endpoint <url>',
      'S3 endpoint URL (default: s3.endpoint of the configuration, $BURST_S3_ENDPOINT, else AWS)',
    )
    .option('--region <region>', 'S3 region (default: s3.region of the configuration, $AWS_REGION, else us-east-1)')
    .option(
      '--profile <name>',
      'AWS profile for S3 credentials (default: s3.profile of the configuration, $AWS_PROFILE)',
    )
    .option('--path-style', 'S3 path-style addressing (default when an endpoint is set)')
    .option('--no-path-style', 'S3 virtual-host addressing')
    .option(
      '--root <dir>',
      'root folder of the fs store (default: fs.root of the configuration, $BURST_FS_ROOT, else ~/.burst/storage)',
    )
    .addHelpText(
      'after',
      '\nSettings come from the configuration like every other command (see `burst config show`); the flags above override it.',
    );

  storage
    .command('ls')
    .description('List objects and folders under a location, or the buckets (s3://, fs://, or no location)')
    .argument('[location]', 'e.g. s3://bucket/prefix/, bucket/prefix/, ./data/ or /abs/path/; s3:// lists the buckets')
    .option('-r, --recursive', 'list every object under the prefix instead of one folder level')
    .option('--json', 'print a JSON array of { key, size, etag, lastModified } and { prefix }')
    .action((location: string | undefined, _opts: unknown, cmd: Command) =>
      withLocations(cmd, (loc, flags) => ls(loc, location, flags)),
    );

  storage
    .command('put')
    .description('Upload local files (paths or quoted globs such as "data/**/*.csv") to a location')
    .argument('<sources...>', 'local files or globs, then the destination (a key, or a prefix ending in /)')
    .option('-c, --concurrency <n>', 'files uploaded at once', '4')
    .option('--progress', 'always show a progress bar (default: on a terminal, for large transfers)')
    .option('--no-progress', 'never show a progress bar')
    .option('-q, --quiet', 'do not print each file')
    .action((args: string[], _opts: unknown, cmd: Command) => {
      if (args.length < 2) cmd.error('error: put needs at least one source and a destination');
      return withLocations(cmd, (loc, flags) => put(loc, args, flags));
    });

  storage
    .command('get')
    .description('Download an object, every object under a prefix/, or those matching a glob, to a local path')
    .argument('<source>', 'e.g. s3://bucket/key, s3://bucket/prefix/ or "s3://bucket/logs/*.csv"')
    .argument('[destination]', 'local file or folder', '.')
    .option('-c, --concurrency <n>', 'objects downloaded at once', '4')
    .option('--progress', 'always show a progress bar (default: on a terminal, for large transfers)')
    .option('--no-progress', 'never show a progress bar')
    .option('-q, --quiet', 'do not print each file')
    .action((source: string, dest: string, _opts: unknown, cmd: Command) =>
      withLocations(cmd, (loc, flags) => get(loc, source, dest, flags)),
    );

  storage
    .command('rm')
    .description('Delete objects (missing ones are not an error)')
    .argument('<locations...>', 'objects, or prefixes with --recursive')
    .option('-r, --recursive', 'delete every object under each location')
    .option('-q, --quiet', 'do not print each deleted object')
    .action((locations: string[], _opts: unknown, cmd: Command) =>
      withLocations(cmd, (loc, flags) => rm(loc, locations, flags)),
    );

  storage
    .command('cat')
    .description('Write an object to standard output')
    .argument('<location>', 'e.g. s3://bucket/key')
    .action((location: string, _opts: unknown, cmd: Command) => withLocations(cmd, (loc) => cat(loc, location)));

  storage
    .command('mb')
    .description('Make a bucket (no error if it exists and is yours)')
    .argument('<location>', 'e.g. s3://bucket or fs://bucket')
    .action((location: string, _opts: unknown, cmd: Command) =>
      withLocations(cmd, async (loc) => {
        const where = loc.parse(location, 'mb');
        await (await loc.driver(where.scheme)).createBucket(where.bucket);
        out(`make_bucket: ${formatStorageUri({ ...where, key: '' })}`);
      }),
    );

  storage
    .command('rb')
    .description('Remove an empty bucket')
    .argument('<location>', 'e.g. s3://bucket')
    .option('--force', 'delete every object in the bucket first')
    .action((location: string, _opts: unknown, cmd: Command) =>
      withLocations(cmd, async (loc, flags) => {
        const where = loc.parse(location, 'rb');
        if (flags.force) await rm(loc, [formatStorageUri({ ...where, key: '' })], { recursive: true, quiet: true });
        await (await loc.driver(where.scheme)).deleteBucket(where.bucket);
        out(`remove_bucket: ${formatStorageUri({ ...where, key: '' })}`);
      }),
    );
}
