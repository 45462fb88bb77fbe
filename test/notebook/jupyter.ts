/**
 * Runs notebooks headless on the tslab kernel: Jupyter from Debian (`jupyter nbconvert --execute`)
 * and tslab from test/notebook/node_modules (`npm --prefix test/notebook ci`). The kernel spec is
 * written to a private JUPYTER_PATH, so nothing is registered for the machine's user.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repo = fileURLToPath(new URL('../../', import.meta.url));
const tslabBin = join(repo, 'test/notebook/node_modules/tslab/bin/tslab');

/** Why notebooks cannot run here, or undefined. */
export async function notebookSkip(): Promise<string | undefined> {
  let reason: string | undefined;
  if (!existsSync(tslabBin))
    reason = 'tslab is not installed: run "npm --prefix test/notebook ci --no-audit --no-fund"';
  else {
    try {
      await run('jupyter', ['nbconvert', '--version']);
    } catch {
      reason = 'jupyter nbconvert is not installed (apt-get install jupyter-nbconvert python3-ipykernel)';
    }
  }
  if (reason && process.env.BURST_REQUIRE_SERVICES === '1') {
    throw new Error(`${reason} (BURST_REQUIRE_SERVICES=1 turns this skip into a failure)`);
  }
  return reason;
}

/** A private Jupyter data folder holding the tslab kernel spec; `burst-compute` resolvable from examples/notebooks. */
export async function prepareKernel(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'burst-jupyter-'));
  await mkdir(join(dir, 'kernels/tslab'), { recursive: true });
  const argv = [process.execPath, tslabBin, 'kernel', '--config-path', '{connection_file}'];
  await writeFile(
    join(dir, 'kernels/tslab/kernel.json'),
    JSON.stringify({ argv, display_name: 'TypeScript', language: 'typescript' }),
  );
  // A user's notebook finds burst-compute in its project's node_modules; the examples find this checkout.
  const link = join(repo, 'examples/notebooks/node_modules/burst-compute');
  if (!existsSync(link)) {
    await mkdir(join(repo, 'examples/notebooks/node_modules'), { recursive: true });
    await symlink('../../..', link).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  return dir;
}

/** One output of a code cell. */
export interface CellOutput {
  output_type: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
}

/** Executes `notebook` (a path under examples/notebooks) and returns the outputs of its code cells. */
export async function executeNotebook(
  jupyterPath: string,
  notebook: string,
  env: Record<string, string> = {},
): Promise<CellOutput[][]> {
  const out = await mkdtemp(join(tmpdir(), 'burst-notebook-out-'));
  await run(
    'jupyter',
    [
      'nbconvert',
      '--execute',
      '--to',
      'notebook',
      '--ExecutePreprocessor.timeout=300',
      '--output-dir',
      out,
      join(repo, 'examples/notebooks', notebook),
    ],
    { env: { ...process.env, JUPYTER_PATH: jupyterPath, ...env }, maxBuffer: 64 * 2 ** 20 },
  );
  const executed = JSON.parse(await readFile(join(out, notebook), 'utf8')) as {
    cells: Array<{ cell_type: string; outputs?: CellOutput[] }>;
  };
  return executed.cells.filter((c) => c.cell_type === 'code').map((c) => c.outputs ?? []);
}

/** The text of a stream output or of one MIME type of a display output. */
export function textOf(output: CellOutput, mime = 'text/plain'): string {
  const value = output.output_type === 'stream' ? output.text : output.data?.[mime];
  return Array.isArray(value) ? value.join('') : (value ?? '');
}
