/**
 * The example notebooks, executed headless on the tslab kernel (real Jupyter, real tslab): the same
 * numbers as the example scripts, the progress line, the rich output and the failing call's error,
 * on localhost and on Slurm (a backend that reaches workers through storage only).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ensureSlurm, type SlurmService } from '../services.ts';
import { executeNotebook, iopubOf, notebookSkip, prepareKernel, repo, textOf, type CellOutput } from './jupyter.ts';

const run = promisify(execFile);
const skip = await notebookSkip();
const jupyterPath = skip ? '' : await prepareKernel();

const all = (cells: CellOutput[][], mime = 'text/plain'): string =>
  cells.flatMap((outputs) => outputs.map((o) => textOf(o, mime))).join('\n');

/** The script's percentile table and loss probability for --small (2,000 forecasts, seed 1). */
async function monteCarloScript(): Promise<{ rows: Map<string, string[]>; loss: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'burst-monte-carlo-'));
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'examples/monte-carlo/main.ts', '--small', '--svg', join(dir, 'h.svg')],
    { cwd: repo },
  );
  const rows = new Map<string, string[]>();
  for (const m of stdout.matchAll(/^(p\d+)\s+([\d.]+)\s+([\d.]+)$/gm)) rows.set(m[1]!, [m[2]!, m[3]!]);
  const loss = /P\(price on day 1080 < 100\) = ([\d.]+%)/.exec(stdout)?.[1] ?? 'missing';
  return { rows, loss };
}

function checkMonteCarlo(cells: CellOutput[][], script: { rows: Map<string, string[]>; loss: string }): void {
  const text = all(cells);
  // The progress line of the map ends as the summary of the wait.
  assert.match(text, /burst: 20\/20 calls finished in [\d.]+ s: 20 done, all succeeded/);
  assert.match(text, new RegExp(`P\\(price on day 1080 < 100\\) = ${script.loss.replace('.', '\\.')}`));
  const html = all(cells, 'text/html');
  assert.equal(script.rows.size, 7);
  for (const [p, [mid, final]] of script.rows) {
    assert.ok(html.includes(`<tr><td>${p}</td><td>${mid}</td><td>${final}</td></tr>`), `row ${p} as in the script`);
  }
  const svgs = cells.flatMap((o) => o.map((x) => textOf(x, 'image/svg+xml'))).filter(Boolean);
  assert.ok(svgs[0]?.includes('price on day 1080, 2000 forecasts, seed 1'), 'the histogram inline');
  assert.ok(svgs.length >= 4, `the histogram and fexec.plot()'s plots, got ${svgs.length} SVGs`);
  assert.match(html, /<pre class="burst-summary">Job [^\n]*: 20 calls \(20 success\)/);
  // The failing call: the remote error, its stack pointing at the line of the cell.
  assert.match(text, /burst: 2\/2 calls finished in [\d.]+ s: 1 done, 1 failed/);
  assert.match(text, /RangeError: too many paths: 99/);
  // The 8th code cell defines checked; its throw is on the 2nd line of the cell.
  assert.match(text, /at checked \(\S*notebook cell \[8\]:2:\d+\)/);
}

describe('example notebooks on tslab', { skip, concurrency: true }, () => {
  test('Monte Carlo forecast: the script numbers, progress, histogram, summary, plots and the error (localhost)', async () => {
    const [cells, script] = await Promise.all([executeNotebook(jupyterPath, 'monte-carlo.ipynb'), monteCarloScript()]);
    checkMonteCarlo(cells, script);
  });

  test('one kernel session: the live progress line; cell functions use earlier names, ship redefinitions, refuse captured locals and class instances', async () => {
    const messages = await iopubOf(jupyterPath, [
      'import { FunctionExecutor } from "burst-compute";\nimport * as path from "node:path";\nconst OFFSET = 1;\nconst fexec = new FunctionExecutor({ workers: 2 });',
      'async function slow(ms: number) { await new Promise((r) => setTimeout(r, ms)); return ms; }',
      'const results = await fexec.getResult(await fexec.map(slow, [400, 400, 400, 400, 400, 400]));\nconsole.log(results.length);',
      'function base(x: number) { return x + OFFSET; }\nconst use = (x: number) => base(x) * 10 + path.basename("/a/bc").length;',
      'const first = await fexec.map(use, [1, 2]);\nconsole.log("first", JSON.stringify(await fexec.getResult(first)));',
      'function base(x: number) { return x + 100; }',
      'const second = await fexec.map(use, [1, 2]);\nconsole.log("second", JSON.stringify(await fexec.getResult(second)));',
      'function make(k: number) { return (x: number) => x + k; }\ntry { await fexec.map(make(3), [1]); } catch (e) { console.log("closure", (e as Error).name, (e as Error).message); }',
      'class Point { constructor(public x: number) {} }\nconst origin = new Point(0);\nconst shift = (x: number) => x + origin.x;\ntry { await fexec.map(shift, [1]); } catch (e) { console.log("instance", (e as Error).name, (e as Error).message); }\nawait fexec.close();',
    ]);
    // The progress of cell 2: one display entry, then updates of that same entry.
    const progress = messages.filter(
      (m) =>
        m.cell === 2 &&
        (m.type === 'display_data' || m.type === 'update_display_data') &&
        m.content.data?.['text/plain']?.startsWith('burst: '),
    );
    const first = progress[0];
    assert.equal(first?.type, 'display_data', 'the line starts as a display entry');
    const id = first?.content.transient?.display_id;
    assert.ok(id, 'with a display id');
    const updates = progress.slice(1);
    assert.ok(updates.length >= 2, `updated in place while calls run, got ${updates.length} updates`);
    for (const u of updates) {
      assert.equal(u.type, 'update_display_data');
      assert.equal(u.content.transient?.display_id, id);
    }
    assert.ok(
      updates.some((u) => / running \| /.test(u.content.data?.['text/plain'] ?? '')),
      'live counts while running',
    );
    assert.match(
      updates.at(-1)?.content.data?.['text/plain'] ?? '',
      /^burst: 6\/6 calls finished in [\d.]+ s: 6 done, all succeeded$/,
    );
    const out = messages
      .filter((m) => m.type === 'stream')
      .map((m) => m.content.text ?? '')
      .join('');
    assert.match(out, /^6$/m);
    assert.match(out, /^first \[22,32\]$/m);
    assert.match(out, /^second \[1012,1022\]$/m, 'the later definition of base ships');
    assert.match(out, /^closure PackagingError .*captures the local variable "k"/m);
    assert.match(out, /^instance PackagingError .*notebook name "origin", which holds an instance of Point/m);
  });

  test('word count over a folder: the same counts as the script', async () => {
    const [cells, scriptRun] = await Promise.all([
      executeNotebook(jupyterPath, 'wordcount.ipynb'),
      run(process.execPath, ['--import', 'tsx', 'examples/wordcount/main.ts', '--small', '--json'], { cwd: repo }),
    ]);
    const script = JSON.parse(scriptRun.stdout.trim().split('\n').pop()!) as {
      total: number;
      distinct: number;
      top: Array<[string, number]>;
    };
    const text = all(cells);
    assert.match(
      text,
      new RegExp(
        `${script.total} words \\(${script.distinct} distinct\\); generated ${script.total}: every word counted exactly once`,
      ),
    );
    const html = all(cells, 'text/html');
    for (const [word, n] of script.top) assert.ok(html.includes(`<tr><td>${word}</td><td>${n}</td></tr>`), word);
    assert.match(text, /burst: 1\/1 calls finished in [\d.]+ s: 1 done, all succeeded/);
  });

  test('Monte Carlo forecast on Slurm: cell functions travel through storage only', async (t) => {
    const slurm = await ensureSlurm();
    if ('skip' in slurm) return t.skip(`Slurm cluster unavailable: ${slurm.skip}`);
    const root = await mkdtemp(join('/var/tmp', 'burst-notebook-slurm-'));
    const config = {
      backend: 'slurm',
      fs: { root, shared: true },
      slurm: { partition: (slurm as SlurmService).partition },
    };
    const [cells, script] = await Promise.all([
      executeNotebook(jupyterPath, 'monte-carlo.ipynb', { BURST_CONFIG: JSON.stringify(config) }),
      monteCarloScript(),
    ]);
    checkMonteCarlo(cells, script);
    assert.match(all(cells, 'text/html'), /20 calls \(20 success\) in [\d.]+ m?s on slurm/);
  });
});
