/**
 * Rich output in a tslab notebook cell: SVG plots, the stats summary and result tables. Outside a
 * notebook the same calls print plain text to stdout, so a cell's code also runs as a script.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { recordNotebookCells } from '../packaging/notebook-cell.js';
import { tslabApi } from './tslab.js';

// Loaded by `import ... from "burst-compute"` in a cell: from then on the kernel's cells are kept,
// so that remote stack traces can name the cell and line of a shipped function (nothing outside tslab).
recordNotebookCells(createRequire(import.meta.url).cache);

/** What `notebook.plot`/`notebook.summary` need of a `FunctionExecutor`. */
export interface NotebookExecutor {
  plot(options: { dir: string }): Promise<string[]>;
  summary(): string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** Shows an SVG image (its markup) in the cell. */
function svg(markup: string): void {
  const tslab = tslabApi();
  if (tslab) tslab.display.svg(markup);
  else console.log(`(an SVG image of ${markup.length} characters: it displays in a notebook)`);
}

/** Shows rows of objects as a table (HTML in a notebook, aligned text elsewhere). */
function table(rows: ReadonlyArray<Record<string, unknown>>): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => (typeof v === 'number' ? String(Number(v.toPrecision(10))) : String(v ?? ''));
  const tslab = tslabApi();
  if (!tslab) {
    console.table(rows);
    return;
  }
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => `<td>${escapeHtml(cell(r[c]))}</td>`).join('')}</tr>`)
    .join('');
  tslab.display.html(`<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`);
}

/** Shows the executor's stats summary (preformatted HTML in a notebook). */
function summary(fexec: NotebookExecutor): void {
  const text = fexec.summary();
  const tslab = tslabApi();
  if (tslab) tslab.display.html(`<pre class="burst-summary">${escapeHtml(text)}</pre>`);
  else console.log(text);
}

/** Draws `fexec.plot()`'s timeline, concurrency and run-time plots and shows them in the cell. */
async function plot(fexec: NotebookExecutor): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'burst-notebook-plot-'));
  try {
    for (const file of await fexec.plot({ dir })) svg(await readFile(file, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Rich output for tslab notebooks: `notebook.plot(fexec)`, `notebook.summary(fexec)`,
 * `notebook.table(rows)`, `notebook.svg(markup)`. Progress of `getResult`/`wait` shows in the cell
 * by itself.
 */
export const notebook = { svg, table, summary, plot } as const;
