/**
 * The build context of the worker image of the container platforms: a folder (`.burst/runtime` in the
 * project) holding a Dockerfile, a .dockerignore, the project's `package.json` dependencies and lock
 * file, and this very Burst packed with `npm pack` (workers refuse jobs from another minor version).
 *
 * The image holds no source of the project: functions reach workers as bundles through storage. It
 * holds the project's dependencies so that packages left out of bundles (native addons, `external`)
 * resolve from `/app/node_modules`, the worker's runtime folder.
 */
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BurstError, ConfigError } from '../errors.js';
import { VERSION } from '../version.js';

/** Options of {@link writeBuildContext}. */
export interface BuildContextOptions {
  /** The project whose `package.json` dependencies go in. */
  projectDir: string;
  /** Base image; it must have node and npm. @default 'node:20-slim' */
  baseImage?: string;
  /** The worker command the image runs (`burst worker <command>`). @default 'serve' (`'openwhisk'` for an OpenWhisk action) */
  workerCommand?: string;
  /** Writes progress lines. */
  log?: (line: string) => void;
}

/** What {@link writeBuildContext} wrote. */
export interface BuildContext {
  /** The folder to build (`docker build <dir>`). */
  dir: string;
  /** The Dockerfile's text. */
  dockerfile: string;
}

/** Fields of the project's package.json that decide its dependency tree (scripts are left out on purpose). */
const KEPT_FIELDS = [
  'name',
  'version',
  'type',
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'overrides',
  'engines',
];

/** Writes the build context into `<projectDir>/.burst/runtime` (replacing an earlier one). */
export async function writeBuildContext(o: BuildContextOptions): Promise<BuildContext> {
  const pkgPath = join(o.projectDir, 'package.json');
  if (!existsSync(pkgPath))
    throw new ConfigError(
      `${pkgPath} does not exist: run "burst runtime build" in your project folder, or pass --dir`,
      { keyPath: 'dir' },
    );
  const dir = join(o.projectDir, '.burst', 'runtime');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as Record<string, unknown>;
  // Without the project's own scripts: its "prepare" or "postinstall" would run against no sources.
  const kept = Object.fromEntries(KEPT_FIELDS.filter((k) => k in pkg).map((k) => [k, pkg[k]]));
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ ...kept, private: true }, null, 2)}\n`);
  const lock = join(o.projectDir, 'package-lock.json');
  if (existsSync(lock)) await copyFile(lock, join(dir, 'package-lock.json'));
  const tarball = await packBurst(dir, o.log);
  const dockerfile = dockerfileText({
    baseImage: o.baseImage ?? 'node:20-slim',
    tarball,
    hasLock: existsSync(lock),
    ...(o.workerCommand ? { workerCommand: o.workerCommand } : {}),
  });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  await writeFile(
    join(dir, '.dockerignore'),
    '# Written by burst runtime build: everything here belongs in the image.\nDockerfile\n.dockerignore\n',
  );
  return { dir, dockerfile };
}

/** Burst's npm name: where `npm install` of the packed tarball puts it. */
const PACKAGE_NAME = (createRequire(import.meta.url)('../../package.json') as { name: string }).name;

/** The Dockerfile of the worker image. */
export function dockerfileText(o: {
  baseImage: string;
  tarball: string;
  hasLock: boolean;
  workerCommand?: string;
}): string {
  return `# Written by "burst runtime build" (Burst ${VERSION}); rewritten on each build.
FROM ${o.baseImage}
ENV NODE_ENV=production PORT=8080 NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# The project's dependencies: packages that bundles leave out (native addons, "external") load from here;
# function bundles are cached in node_modules/.cache/burst, which the unprivileged user must write.
WORKDIR /app
COPY package.json ${o.hasLock ? 'package-lock.json ' : ''}./
RUN ${o.hasLock ? 'npm ci --omit=dev' : 'npm install --omit=dev'} && npm cache clean --force \\
 && mkdir -p node_modules/.cache/burst && chown -R node:0 node_modules/.cache && chmod -R g=u node_modules/.cache
# Burst itself, the client's exact version, apart from the project (which may itself be named burst).
COPY ${o.tarball} /opt/burst/
RUN cd /opt/burst && npm init -y >/dev/null && npm install --omit=dev ./${o.tarball} && rm ./${o.tarball} && npm cache clean --force
# The node user by number (Kubernetes' runAsNonRoot checks a number); the cache is group 0 writable
# for OpenShift, whose restricted SCC runs the image as an arbitrary UID in group 0.
USER 1000
EXPOSE 8080
# Runs the calls each POST /invoke names, in /app (the runtime folder of bundles). It refuses to start
# without BURST_SERVE_TOKEN, BURST_SIGNING_KEY and BURST_STORAGE_CONFIG, which "burst runtime deploy" sets.
CMD ["node", "/opt/burst/node_modules/${PACKAGE_NAME}/dist/cli/main.js", "worker", "${o.workerCommand ?? 'serve'}"]
`;
}

/** Packs the running Burst into `dir`; returns the tarball's file name. */
async function packBurst(dir: string, log?: (line: string) => void): Promise<string> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    throw new BurstError(
      'RUNTIME_BUILD',
      `Burst at ${root} has no dist/ to put in the image: run "npm run build" there first`,
    );
  }
  log?.(`packing Burst ${VERSION} from ${root}`);
  await new Promise<void>((resolve, reject) => {
    // --ignore-scripts: the dist/ already built is what goes in; no rebuild inside someone's project.
    execFile(
      'npm',
      ['pack', root, '--ignore-scripts', '--pack-destination', dir],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, _out, stderr) =>
        err
          ? reject(
              new BurstError('RUNTIME_BUILD', `npm pack of Burst failed: ${stderr.trim() || err.message}`, {
                cause: err,
              }),
            )
          : resolve(),
    );
  });
  const tgz = (await readdir(dir)).find((f) => f.startsWith(`${PACKAGE_NAME}-`) && f.endsWith('.tgz'));
  if (!tgz) throw new BurstError('RUNTIME_BUILD', `npm pack wrote no ${PACKAGE_NAME}-*.tgz into ${dir}`);
  return tgz;
}
