/**
 * The progress bar: shown on stderr for waits longer than about a second, only when stderr is a TTY.
 * cli-progress is loaded only when a bar is actually shown.
 */
import type { Future } from '../executor/future.js';
import { showNotebookProgress } from '../notebook/progress.js';
import { tslabApi } from '../notebook/tslab.js';

const DELAY_MS = 1000;
const REFRESH_MS = 200;

/**
 * Starts watching `futures`; `countDone` counts those done (the executor's, which needs no future
 * object of a map's list). Returns a function that removes the bar.
 */
export function showProgress(futures: readonly Future<unknown>[], countDone: () => number): () => void {
  // In a tslab notebook the progress line lives in the cell (updated in place), not on stderr.
  const allDone = (): boolean => countDone() === futures.length;
  const tslab = futures.length > 0 && !allDone() ? tslabApi() : undefined;
  if (tslab) return showNotebookProgress(futures, tslab.newDisplay());
  if (!process.stderr.isTTY || futures.length === 0 || allDone()) return () => {};
  let stopped = false;
  let bar: { update(n: number): void; stop(): void } | undefined;
  let refresh: NodeJS.Timeout | undefined;
  const count = countDone;
  const delay = setTimeout(() => {
    void import('cli-progress').then((mod) => {
      if (stopped) return;
      const cp = (mod as { default?: typeof import('cli-progress') }).default ?? mod;
      const b = new cp.SingleBar(
        {
          stream: process.stderr,
          format: 'burst [{bar}] {value}/{total} calls | {duration_formatted} elapsed | eta {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cp.Presets.shades_classic,
      );
      b.start(futures.length, count());
      bar = b;
      refresh = setInterval(() => b.update(count()), REFRESH_MS);
      refresh.unref();
    });
  }, DELAY_MS);
  delay.unref();
  return () => {
    stopped = true;
    clearTimeout(delay);
    if (refresh) clearInterval(refresh);
    if (bar) {
      bar.update(count());
      bar.stop();
    }
  };
}
