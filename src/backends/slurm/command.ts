/** Runs one Slurm command (sbatch, scancel) and collects what it printed. */
import { spawn } from 'node:child_process';

/** What a Slurm command printed when it exited with 0. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with `args`, writing `input` (if any) to its stdin. Resolves when it exits with 0;
 * rejects with an Error carrying its stderr and exit code otherwise. A command that exits without reading
 * its stdin (scancel always, sbatch on a bad option) closes the pipe under our write: that EPIPE is not
 * the outcome, the exit code is, so it is swallowed rather than left to crash the client.
 */
export function runCommand(
  command: string,
  args: string[],
  input?: string,
  env?: NodeJS.ProcessEnv,
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: env ?? process.env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // internal: sbatch's failure becomes the cause of a SUBMIT_REJECTED BurstError; scancel's is ignored.
    child.on('close', (code) =>
      code === 0
        ? resolve({ stdout, stderr })
        : reject(Object.assign(new Error(stderr.trim() || `${command} exited with ${code}`), { stderr, code })),
    );
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}
