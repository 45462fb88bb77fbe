/**
 * `burst config init`: writes a commented starter config file. The backend and storage come from the
 * flags, else from questions on the terminal (when stdin is a TTY), else the zero-config defaults.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { backendNames } from '../backends/index.js';
import { executorStorageDrivers } from '../storage/registry.js';
import { userConfigPath } from '../config/load.js';
import type { InitFlags } from './config.js';
import { out } from './client-config.js';

/** Storage drivers a config file can name: those worker processes can open (not `memory`, which lives in one process only). */
export function configStorages(): string[] {
  return executorStorageDrivers()
    .map((d) => d.name)
    .sort();
}

interface Choices {
  backend: string;
  storage: string;
  endpoint?: string;
}

/** Asks what is missing, writes the file and says what to do next; `fail` reports wrong usage. */
export async function initConfig(flags: InitFlags, fail: (message: string) => never): Promise<void> {
  if (flags.format !== 'json' && flags.format !== 'ts')
    fail(`--format must be json or ts, got ${JSON.stringify(flags.format)}`);
  if (flags.backend !== undefined && !backendNames().includes(flags.backend))
    fail(`--backend must be one of ${backendNames().join(', ')}, got ${JSON.stringify(flags.backend)}`);
  if (flags.storage !== undefined && !configStorages().includes(flags.storage))
    fail(`--storage must be one of ${configStorages().join(', ')}, got ${JSON.stringify(flags.storage)}`);
  if (flags.global && flags.format === 'ts') fail('--global writes ~/.burst/config.json, which must be JSON');
  const path = flags.global ? userConfigPath() : join(process.cwd(), `burst.config.${flags.format}`);
  if (existsSync(path) && !flags.force) fail(`${path} already exists; pass --force to overwrite it`);
  const choices = await choose(flags);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, flags.format === 'ts' ? starterTs(choices) : starterJson(choices));
  out(`Wrote ${path} (backend ${choices.backend}, storage ${choices.storage}).`);
  out('Next: `burst config show` to see the effective configuration, `burst test` to check it works.');
}

async function choose(flags: InitFlags): Promise<Choices> {
  const interactive = process.stdin.isTTY === true && (flags.backend === undefined || flags.storage === undefined);
  if (!interactive) {
    const c: Choices = { backend: flags.backend ?? 'localhost', storage: flags.storage ?? 'fs' };
    if (flags.endpoint) c.endpoint = flags.endpoint;
    return c;
  }
  // Lines are read through one iterator so that answers typed (or pasted) ahead are not lost.
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const line = async (prompt: string): Promise<string | undefined> => {
    process.stdout.write(prompt);
    const next = await lines.next();
    return next.done ? undefined : String(next.value).trim();
  };
  try {
    const ask = async (question: string, options: string[], fallback: string): Promise<string> => {
      for (;;) {
        const answer = (await line(`${question} (${options.join(', ')}) [${fallback}]: `)) || fallback;
        if (options.includes(answer)) return answer;
        out(`  please answer one of: ${options.join(', ')}`);
      }
    };
    const backend = flags.backend ?? (await ask('Where should calls run?', backendNames(), 'localhost'));
    const storage =
      flags.storage ?? (await ask('Where should data live?', configStorages(), backend === 'localhost' ? 'fs' : 's3'));
    const c: Choices = { backend, storage };
    if (storage === 's3') {
      const endpoint = flags.endpoint ?? (await line('S3 endpoint URL (empty for AWS S3): '));
      if (endpoint) c.endpoint = endpoint;
    }
    return c;
  } finally {
    rl.close();
  }
}

/** The starter as JSON with comments (Burst reads comments and trailing commas in its JSON files). */
export function starterJson(c: Choices): string {
  return `${HEADER}\n${body(c)}\n`;
}

/** The starter as a TypeScript module. */
export function starterTs(c: Choices): string {
  return `${HEADER}\nimport type { BurstConfig } from 'burst-compute';\n\nexport default ${body(c)} satisfies BurstConfig;\n`;
}

const HEADER = [
  '// Burst configuration. Keys are the options of new FunctionExecutor(...); options passed to the',
  '// constructor override this file, and BURST_* variables override single keys (BURST_WORKERS=8).',
  '// Check it with `burst config show` and `burst test`.',
].join('\n');

function body(c: Choices): string {
  const cm = '//';
  const fsShared = c.backend !== 'localhost' && c.storage === 'fs';
  const lines = [
    '{',
    `  ${cm} Where calls run: ${backendNames()
      .map((b) => `"${b}"`)
      .join(' or ')}.`,
    `  "backend": "${c.backend}",`,
    `  ${cm} Where functions, job data and results live: "fs" (local files) or "s3" (any S3-compatible store).`,
    `  "storage": "${c.storage}",`,
    `  ${cm} The bucket of Burst's own data.`,
    '  "bucket": "burst",',
    `  ${cm} Seconds each call may run, and times a failed call is run again.`,
    '  "timeout": 600,',
    '  "retries": 0,',
    `  ${cm} Worker processes on this machine (localhost backend); default: one per core.`,
    `  ${cm} "workers": 4,`,
  ];
  if (c.storage === 'fs') {
    lines.push(
      `  "fs": {`,
      `    ${cm} Folder of the store; default: ~/.burst/storage (or $BURST_FS_ROOT).`,
      `    ${cm} "root": "/data/burst",`,
      fsShared ? `    ${cm} The folder must be on a filesystem every node mounts at the same path.` : '',
      fsShared ? '    "shared": true,' : '',
      '  },',
    );
  } else {
    lines.push(
      '  "s3": {',
      c.endpoint
        ? `    "endpoint": ${JSON.stringify(c.endpoint)},`
        : `    ${cm} "endpoint": "http://127.0.0.1:7480",   (leave out for AWS S3)`,
      `    ${cm} "region": "us-east-1",`,
      `    ${cm} Credentials: keep them out of this file. Burst uses AWS_ACCESS_KEY_ID and`,
      `    ${cm} AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials (choose a profile with "profile").`,
      '  },',
    );
  }
  if (c.backend === 'slurm') {
    lines.push('  "slurm": {', `    ${cm} "partition": "batch",`, `    ${cm} "account": "my-project",`, '  },');
  }
  lines.push('}');
  return lines.filter((l) => l !== '').join('\n');
}
