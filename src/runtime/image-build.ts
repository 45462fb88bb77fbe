/**
 * Builds and pushes the worker image with the container tool the user has: docker (with a running
 * engine) or podman, whichever works first, or the one named by the `builder` option.
 */
import { spawn } from 'node:child_process';
import { BurstError } from '../errors.js';
import { VERSION } from '../version.js';
import { writeBuildContext } from './dockerfile.js';
import type { ServiceRuntimeOptions } from './service-options.js';
import type { RuntimeCommandOptions } from './types.js';

/** The container tools Burst can build with. */
export type ImageBuilder = 'docker' | 'podman';

/** Image options shared by the container platforms' runtime sections (`knative`, `cloudrun`, `code_engine`). */
export interface ImageOptions {
  /** Image reference to build and push, e.g. `ghcr.io/me/burst-worker:0.1.0`. @default `burst-worker:<version>` (local only) */
  image?: string;
  /** The tool to build with. @default docker when its engine answers, else podman */
  builder?: ImageBuilder;
  /** Extra arguments of the build command, e.g. `['--platform=linux/amd64']`. @default [] */
  buildArgs?: string[];
  /** Base image (node and npm). @default 'node:20-slim' */
  baseImage?: string;
}

/** The image built when none is named. */
export const defaultImage = (): string => `burst-worker:${VERSION}`;

/** Runs a command, sending its output lines to `log`; rejects with its exit code and last lines. */
export function runTool(command: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onData = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) {
        if (!line.trim()) continue;
        log(`  ${line}`);
        tail.push(line);
        if (tail.length > 15) tail.shift();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new BurstError('RUNTIME_BUILD', `${command} ${args[0] ?? ''} exited with ${code}:\n${tail.join('\n')}`),
          ),
    );
  });
}

/** Whether `command` runs and, for docker, reaches its engine. */
function works(command: ImageBuilder): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(command, ['info', '--format', '{{json .}}'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'not installed' : e.message));
    child.on('close', (code) =>
      resolve(code === 0 ? undefined : err.trim().split('\n').pop() || `exited with ${code}`),
    );
  });
}

/** The builder to use; a clear error when neither docker nor podman works. */
export async function pickBuilder(preferred?: ImageBuilder): Promise<ImageBuilder> {
  const candidates: ImageBuilder[] = preferred ? [preferred] : ['docker', 'podman'];
  const why: string[] = [];
  for (const c of candidates) {
    const problem = await works(c);
    if (!problem) return c;
    why.push(`${c}: ${problem}`);
  }
  throw new BurstError(
    'NO_IMAGE_BUILDER',
    `building the worker image needs docker (with a running engine) or podman, and none works here (${why.join('; ')}); install one, or build the Dockerfile that "burst runtime build" writes elsewhere`,
  );
}

/** Writes the build context of `projectDir` and builds `image` from it; returns the image reference. */
export async function buildImage(
  o: ImageOptions & { projectDir: string; log: (line: string) => void; workerCommand?: string },
): Promise<string> {
  const image = o.image ?? defaultImage();
  const context = await writeBuildContext({
    projectDir: o.projectDir,
    log: o.log,
    ...(o.baseImage ? { baseImage: o.baseImage } : {}),
    ...(o.workerCommand ? { workerCommand: o.workerCommand } : {}),
  });
  o.log(`wrote ${context.dir}/Dockerfile`);
  const builder = await pickBuilder(o.builder);
  o.log(`building ${image} with ${builder}`);
  await runTool(builder, ['build', '-t', image, ...(o.buildArgs ?? []), context.dir], o.log);
  return image;
}

/** Pushes `image` to its registry. */
export async function pushImage(
  image: string,
  o: { builder?: ImageBuilder; log: (line: string) => void },
): Promise<void> {
  const builder = await pickBuilder(o.builder);
  o.log(`pushing ${image} with ${builder}`);
  await runTool(builder, ['push', image], o.log);
}

/** The image tools a runtime manager uses; tests replace them. */
export interface ImageTools {
  build?: typeof buildImage;
  push?: typeof pushImage;
}

/** `burst runtime build` on a container platform: builds the section's image from the project. */
export function buildRuntimeImage(k: ImageOptions, o: RuntimeCommandOptions, tools: ImageTools = {}): Promise<string> {
  return (tools.build ?? buildImage)({ ...k, projectDir: o.projectDir ?? process.cwd(), log: o.log });
}

/** The image step of a deploy: builds `image` (unless `build: false`), pushes it (unless `push: false`), returns what to deploy. */
export async function buildAndPush(
  image: string,
  k: ServiceRuntimeOptions,
  o: RuntimeCommandOptions,
  tools: ImageTools = {},
): Promise<string> {
  const built =
    k.build === false
      ? image
      : await (tools.build ?? buildImage)({ ...k, image, projectDir: o.projectDir ?? process.cwd(), log: o.log });
  if (k.push !== false)
    await (tools.push ?? pushImage)(built, { ...(k.builder ? { builder: k.builder } : {}), log: o.log });
  return built;
}
