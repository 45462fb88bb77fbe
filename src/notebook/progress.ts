/**
 * Progress of a wait in a notebook cell: one line (done / running / failed / pending) that tslab
 * updates in place (a display entry with an id: `display_data`, then `update_display_data`), and a
 * summary line when the wait ends.
 */
import type { TslabDisplay } from './tslab.js';

/** What the progress line reads of a future. */
export interface ProgressFuture {
  readonly status: string;
}

const REFRESH_MS = 250;

/** Counts of futures by state. */
export function progressLine(futures: readonly ProgressFuture[], startedAt: number, final: boolean): string {
  let done = 0;
  let failed = 0;
  let running = 0;
  for (const f of futures) {
    if (f.status === 'success') done++;
    else if (f.status === 'error') failed++;
    else if (f.status === 'running') running++;
  }
  const pending = futures.length - done - failed - running;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  if (final) {
    const outcome = failed > 0 ? `${failed} failed` : 'all succeeded';
    return `burst: ${done + failed}/${futures.length} calls finished in ${seconds} s: ${done} done, ${outcome}${pending + running > 0 ? `, ${pending + running} not finished` : ''}`;
  }
  return `burst: ${done}/${futures.length} done | ${running} running | ${failed} failed | ${pending} pending | ${seconds} s`;
}

/** Shows a live progress line in the current cell; returns a function that writes the summary. */
export function showNotebookProgress(futures: readonly ProgressFuture[], display: TslabDisplay): () => void {
  const startedAt = Date.now();
  let last = '';
  const draw = (final: boolean): void => {
    const line = progressLine(futures, startedAt, final);
    if (line === last) return;
    last = line;
    try {
      display.text(line);
    } catch {
      // The kernel is not ready to display (no cell running): progress is best effort.
    }
  };
  draw(false);
  const timer = setInterval(() => draw(false), REFRESH_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    draw(true);
  };
}
