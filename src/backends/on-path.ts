/** Whether a command is on PATH, checked without running it (backends probe for sbatch, gcloud, …). */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when an executable named `command` is in one of PATH's folders. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}
