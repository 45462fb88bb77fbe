/**
 * Gives shipped functions the worker's own copy of Burst. A function bundle never contains Burst
 * itself: the packager turns every `import … from 'burst-compute'` (static, dynamic or `require`) into
 * a read of `globalThis[Symbol.for(SELF_MARKER)]`, so a bundle works wherever its file sits (a project
 * cache, `$TMPDIR`, a Slurm node, a container image, a Lambda bundle), and error classes, `Storage`
 * and nested executors are the very ones the worker runs with.
 *
 * The public API is loaded only for bundles that use it (importing it costs ~100 ms), by a dynamic
 * import, so the worker's static import graph stays free of client-side code.
 */
import { readFile } from 'node:fs/promises';
import { PackagingError } from '../errors.js';

/** The `Symbol.for` key under which a worker publishes its public API to function bundles. */
export const SELF_MARKER = 'burst-compute.self';

const SELF = Symbol.for(SELF_MARKER);
/**
 * Set by a build that ships the API beside the worker code (the Lambda build defines it as
 * `"./api.js"`): the API's file, relative to the file this code ends up in. Unset elsewhere.
 */
declare const __BURST_SELF_API__: string | undefined;
/**
 * Set by a worker build that carries no bundler (the Lambda build defines it as `"AWS Lambda"`): where
 * this process runs, when it cannot package functions. Unset elsewhere.
 */
declare const __BURST_NO_PACKAGING__: string | undefined;
let providing: Promise<void> | undefined;

/**
 * Publishes this copy of Burst's public API for the bundle at `file` when the bundle reads it;
 * `code` is the file's content when the caller has read it already.
 */
export async function provideSelf(file: string, code?: Uint8Array): Promise<void> {
  if (providing !== undefined || SELF in globalThis) return providing;
  const text = code ?? (await readFile(file).catch(() => Buffer.alloc(0)));
  if (!Buffer.from(text.buffer, text.byteOffset, text.byteLength).includes(SELF_MARKER)) return;
  providing ??= loadSelf();
  return providing;
}

async function loadSelf(): Promise<void> {
  // Not a literal: a bundler building a worker (the Lambda build) must not pull the whole client
  // API into it. tsx maps the path to index.ts in a source checkout.
  const entry = new URL(typeof __BURST_SELF_API__ === 'string' ? __BURST_SELF_API__ : '../index.js', import.meta.url)
    .href;
  let api: unknown;
  try {
    api = await import(entry);
  } catch (err) {
    providing = undefined;
    throw new PackagingError(
      `the function imports burst-compute, but this worker has no copy of Burst's API to give it (${entry} did not load)`,
      { cause: err },
    );
  }
  (globalThis as Record<symbol, unknown>)[SELF] = api;
}

/**
 * True in a worker process that runs a function importing Burst: an executor created there (a nested
 * map) defaults to one localhost worker process, so N outer calls start at most N inner processes.
 */
export function insideWorker(): boolean {
  return SELF in globalThis;
}

/**
 * Throws when this process cannot package a function: a task on AWS Lambda runs in a worker bundle
 * without esbuild (a native binary, for the client's platform), so it cannot start a map of its own.
 * Checked before anything else a submission does, so the reason is always this one.
 * @throws PackagingError naming the backend and what to do instead.
 */
export function assertCanPackage(): void {
  if (typeof __BURST_NO_PACKAGING__ !== 'string') return;
  throw new PackagingError(
    `a task on ${__BURST_NO_PACKAGING__} cannot run a map of its own (a FunctionExecutor inside the task): the ${__BURST_NO_PACKAGING__} worker has no bundler to package the inner function. Return the inner inputs and map them from the client, or run the outer map on a backend whose workers have Burst installed (localhost, Slurm, the HTTP workers)`,
  );
}
