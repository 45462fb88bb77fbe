/**
 * Runs notebooks headless on the tslab kernel: Jupyter from Debian (`jupyter nbconvert --execute`)
 * and tslab from test/notebook/node_modules (`npm --prefix test/notebook ci`). The kernel spec is
 * written to a private JUPYTER_PATH, so nothing is registered for the machine's user.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
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

/**
 * A private Jupyter data folder holding the tslab kernel spec, and in it `work/`: a copy of the example
 * notebooks beside a `node_modules` where `burst-compute` is this checkout (as a user's project has it
 * installed). Outside the repository, so that no folder of the repository links back to itself.
 */
export async function prepareKernel(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'burst-jupyter-'));
  await mkdir(join(dir, 'kernels/tslab'), { recursive: true });
  const argv = [process.execPath, tslabBin, 'kernel', '--config-path', '{connection_file}'];
  await writeFile(
    join(dir, 'kernels/tslab/kernel.json'),
    JSON.stringify({ argv, display_name: 'TypeScript', language: 'typescript' }),
  );
  await mkdir(join(dir, 'work/node_modules'), { recursive: true });
  await symlink(repo, join(dir, 'work/node_modules/burst-compute'));
  await symlink(join(repo, 'node_modules/@types'), join(dir, 'work/node_modules/@types'));
  for (const name of await readdir(join(repo, 'examples/notebooks'))) {
    if (name.endsWith('.ipynb')) await copyFile(join(repo, 'examples/notebooks', name), join(dir, 'work', name));
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

/** Executes `notebook` (a file name of examples/notebooks, from the copy in `work/`) and returns the outputs of its code cells. */
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
      join(jupyterPath, 'work', notebook),
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
  const value =
    output.output_type === 'stream' ? (mime === 'text/plain' ? output.text : undefined) : output.data?.[mime];
  return Array.isArray(value) ? value.join('') : (value ?? '');
}

/** An iopub message of the kernel. */
export interface IopubMessage {
  /** Index of the cell (in the list given to {@link iopubOf}) the message belongs to. */
  cell: number;
  type: string;
  content: { data?: Record<string, string>; transient?: { display_id?: string }; text?: string; name?: string };
}

/** Runs `cells` one after the other on a fresh tslab kernel started in `work/`; its iopub messages. */
export async function iopubOf(jupyterPath: string, cells: string[]): Promise<IopubMessage[]> {
  // Debian's python3 has jupyter_client; a python3 earlier on PATH (pyenv) may not.
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const child = execFile(python, [join(repo, 'test/notebook/iopub.py'), 'tslab'], {
    cwd: join(jupyterPath, 'work'),
    env: { ...process.env, JUPYTER_PATH: jupyterPath },
    maxBuffer: 64 * 2 ** 20,
  });
  child.stdin?.end(JSON.stringify(cells));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d));
  child.stderr?.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`iopub.py exited with ${code}: ${stderr.slice(-2000)}`);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as IopubMessage);
}
