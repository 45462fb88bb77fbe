/**
 * The data scientist's pipeline: find, crop and align every face of a folder of images in storage,
 * one call per image, with sharp and a face-detection model that ships inside its npm package.
 *
 *   npx tsx examples/images/main.ts                                   # 24 test images, made on the fly
 *   npx tsx examples/images/main.ts --input fs://photos/2024/         # your own images
 *   npx tsx examples/images/main.ts --images 1000 --backend slurm --storage s3
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { FunctionExecutor, Storage, parseStorageUri, type FutureList } from 'burst-compute';
import { alignFaces, type AlignArgs, type AlignedFace, type ImageResult } from './align.js';
import { seedImages } from './seed.js';
import { executorFlags, executorFlagsHelp, executorOptions, parseFlags } from '../shared/executor-flags.js';

const HELP = `Usage: npx tsx examples/images/main.ts [options]

  --input URI          prefix of the images to process     (default: test images made under
                                                             <storage>://burst-examples/faces-<N>/)
  --output URI         prefix for the aligned faces        (default: <input>-aligned/)
  --images N           test images to make when --input is not given (default 24)
  --small              8 test images (the test size)
  --size PX            side of the aligned faces            (default 180)
  --detector NAME      ssd (SSD MobileNet v1) or tiny       (default ssd)
  --min-confidence C   lowest detection score kept          (default 0.5)
  --sheet FILE         contact sheet of the aligned faces   (default out/faces.jpg beside this file)
${executorFlagsHelp}`;

const flags = parseFlags(HELP, () =>
  parseArgs({
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      images: { type: 'string' },
      small: { type: 'boolean', default: false },
      size: { type: 'string', default: '180' },
      detector: { type: 'string', default: 'ssd' },
      'min-confidence': { type: 'string', default: '0.5' },
      sheet: { type: 'string' },
      ...executorFlags,
    },
  }),
);

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** A flag as a positive number, or exit naming it. */
function num(name: string, value: string | undefined, integer = true): number {
  const n = Number(value);
  if (value === undefined || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    fail(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  return n;
}

const withSlash = (uri: string): string => (uri.endsWith('/') ? uri : `${uri}/`);

/** Where an fs URI lives on this machine, for the user to open. */
function localPath(uri: string, fsRoot: unknown): string | undefined {
  const { scheme, bucket, key } = parseStorageUri(uri);
  if (scheme !== 'fs') return undefined;
  return join(
    typeof fsRoot === 'string' ? fsRoot : (process.env.BURST_FS_ROOT ?? join(homedir(), '.burst', 'storage')),
    bucket,
    key,
  );
}

/**
 * The client's own handle on the storage the executor uses: the same driver, with the driver options
 * of the `--config` file (an fs root shared with the cluster, an S3 endpoint) when there is one.
 */
function clientStorage(
  flag: string | undefined,
  configFile: string | undefined,
): { name: string; storage: Storage; options: Record<string, unknown> } {
  const config = configFile ? (JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>) : {};
  const name = flag ?? (typeof config.storage === 'string' ? config.storage : 'fs');
  const own = config[name];
  const options = typeof own === 'object' && own !== null ? (own as Record<string, unknown>) : {};
  return { name, storage: new Storage({ driver: name, ...options }), options };
}

/** A grid of the aligned faces (the first `max`), as one JPEG. */
async function contactSheet(
  storage: Storage,
  uris: readonly string[],
  size: number,
  file: string,
  max = 64,
): Promise<void> {
  const faces = uris.slice(0, max);
  const cols = Math.min(8, faces.length);
  const rows = Math.ceil(faces.length / cols);
  const tiles = await Promise.all(
    faces.map(async (u, i) => ({
      input: Buffer.from(await storage.get(u)),
      left: (i % cols) * size,
      top: Math.floor(i / cols) * size,
    })),
  );
  await mkdir(dirname(file), { recursive: true });
  await sharp({ create: { width: cols * size, height: rows * size, channels: 3, background: '#ffffff' } })
    .composite(tiles)
    .jpeg({ quality: 85 })
    .toFile(file);
}

function printImage(r: ImageResult): void {
  const name = r.input.split('/').pop() ?? r.input;
  const rolls = r.faces.map((f) => f.roll.toFixed(1).padStart(6)).join('');
  console.log(
    `${name.padEnd(26)} ${`${r.width}×${r.height}`.padStart(10)} ${String(r.faces.length).padStart(3)} face${r.faces.length === 1 ? ' ' : 's'}  detect ${String(r.detectMs).padStart(5)} ms  roll°${rolls}`,
  );
}

/** Makes test images under `input` when it is empty and no `--input` was given. */
async function ensureInputs(fexec: FunctionExecutor, storage: Storage, input: string, count: number): Promise<void> {
  if ((await storage.listKeys(input).catch(() => [])).length > 0) return;
  if (flags.input) fail(`no images under ${input}`);
  const t = performance.now();
  await storage.createBucket(input);
  const made = await seedImages(fexec, storage, input, count);
  console.log(
    `made ${made.length} test images from face-api's sample photographs under ${input} in ${((performance.now() - t) / 1000).toFixed(2)} s\n`,
  );
}

/** Prints one line per image, the totals, the alignment check, and where the faces went. */
function report(
  results: ReadonlyArray<ImageResult | Error>,
  futures: FutureList<ImageResult>,
  seconds: number,
): AlignedFace[] {
  const ok = results.filter((r): r is ImageResult => !(r instanceof Error) && r.skipped === undefined);
  ok.slice(0, 60).forEach(printImage);
  if (ok.length > 60) console.log(`… and ${ok.length - 60} more`);
  for (const r of results)
    if (!(r instanceof Error) && r.skipped !== undefined) console.log(`skipped ${r.input}: ${r.skipped}`);
  results.forEach((r, i) => r instanceof Error && console.log(`FAILED call ${i}: ${r.message}`));

  const faces = ok.flatMap((r) => r.faces);
  const checked = faces.filter((f) => f.residualRoll !== null);
  const level = checked.filter((f) => Math.abs(f.residualRoll as number) <= 5).length;
  let fnMs = 0;
  const procs = new Set(Array.from(futures, (f) => `${f.stats.hostname}:${f.stats.pid}`));
  for (const f of futures)
    if (f.stats.fnStart !== undefined && f.stats.fnEnd !== undefined) fnMs += f.stats.fnEnd - f.stats.fnStart;
  console.log(
    `\n${ok.length} images, ${faces.length} faces aligned in ${seconds.toFixed(2)} s: ${(results.length / seconds).toFixed(2)} images/s; ` +
      `the function ran ${(fnMs / 1000).toFixed(2)} s in total on ${procs.size} worker process${procs.size === 1 ? '' : 'es'}`,
  );
  console.log(
    `check: eyes level within 5° in ${level} of ${checked.length} aligned faces whose eyes the landmark net finds again (${faces.length - checked.length} not found: profiles, occlusions)`,
  );
  return faces;
}

async function main(): Promise<void> {
  const count = num('images', flags.images ?? (flags.small ? '8' : '24'));
  const detector = flags.detector;
  if (detector !== 'ssd' && detector !== 'tiny') fail(`--detector must be ssd or tiny, got ${detector}`);
  const { name: storageName, storage, options: storageOptions } = clientStorage(flags.storage, flags.config);
  const input = withSlash(flags.input ?? `${storageName}://burst-examples/faces-${count}/`);
  const output = withSlash(flags.output ?? `${input.slice(0, -1)}-aligned/`);
  const args: AlignArgs = {
    output,
    size: num('size', flags.size),
    detector,
    minConfidence: num('min-confidence', flags['min-confidence'], false),
    detectSide: 1024,
  };
  const options = executorOptions(flags);

  const fexec = new FunctionExecutor(options);
  try {
    await ensureInputs(fexec, storage, input, count);
    await storage.createBucket(output);
    await storage.deletePrefix(output);
    // The prefix itself is the input: Burst lists it and makes one call per object (image).
    console.log(
      `aligning the faces of the images under ${input} to ${args.size}×${args.size} (${detector} detector)\n`,
    );
    const t0 = performance.now();
    const futures = await fexec.map(alignFaces, input, { extraArgs: args });
    const results = await fexec.getResult(futures, { throwOnError: false });
    const faces = report(results, futures, (performance.now() - t0) / 1000);
    const where = localPath(output, storageOptions.root);
    console.log(`aligned faces: ${output}${where ? ` (${where})` : ''}`);
    if (faces.length > 0) {
      const sheet = resolve(flags.sheet ?? join(dirname(fileURLToPath(import.meta.url)), 'out', 'faces.jpg'));
      await contactSheet(
        storage,
        faces.map((f) => f.output),
        args.size,
        sheet,
      );
      console.log(`contact sheet: ${sheet}`);
    }
    if (results.some((r) => r instanceof Error)) process.exitCode = 1;
  } finally {
    await fexec.close();
    await storage.close();
  }
}

await main();
