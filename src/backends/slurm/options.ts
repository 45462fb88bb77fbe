/** Options of the Slurm backend (the `slurm` section) and their schema. */
import type { z as Zod } from 'zod';
import type { OptionsMatch, SameOptions, ZodNamespace } from '../definition.js';
import { parts } from '../schema-parts.js';

/** Options of the Slurm backend (`new FunctionExecutor({ backend: 'slurm', slurm: {...} })`). */
export interface SlurmOptions {
  /** Partition to submit to. @default the cluster's default partition */
  partition?: string;
  /** Account to charge. @default none */
  account?: string;
  /** Quality of service. @default none */
  qos?: string;
  /** Array tasks running at once (`--array=…%N`). @default no limit */
  maxConcurrency?: number;
  /** CPUs per array task; also the worker processes each task runs. @default 1 */
  cpusPerTask?: number;
  /** Extra sbatch arguments, e.g. `['--constraint=avx2']`. @default [] */
  sbatchArgs?: string[];
  /** Path of `node` on the nodes. @default the client's `process.execPath` */
  nodePath?: string;
  /** Path of Burst's CLI (`dist/cli/main.js`) on the nodes. @default the client's own */
  burstPath?: string;
  /** Working folder of the tasks; its node_modules resolves packages left out of bundles. @default process.cwd() */
  workDir?: string;
  /** Where Slurm writes each task's stdout/stderr. @default '/dev/null' */
  output?: string;
  /** Environment variables passed to the tasks. @default {} */
  env?: Record<string, string>;
}

/** The schema of {@link SlurmOptions}. */
export function slurmSchema(z: ZodNamespace) {
  const p = parts(z);
  return z.object({
    partition: p.str(),
    account: p.str(),
    qos: p.str(),
    maxConcurrency: p.posInt(),
    cpusPerTask: p.posInt(),
    sbatchArgs: p.strings(),
    nodePath: p.str(),
    burstPath: p.str(),
    workDir: p.str(),
    output: p.str(),
    env: p.stringMap(),
  });
}

/** Compile-time tie of {@link SlurmOptions} to its schema. */
export type SlurmOptionsChecked = OptionsMatch<SameOptions<SlurmOptions, Zod.input<ReturnType<typeof slurmSchema>>>>;
