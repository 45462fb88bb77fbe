/**
 * V8 collects each isolate's young generation with helper threads when it finds enough work to share
 * ("parallel scavenges"). While a pool's workers fill every core there is no idle core for a helper:
 * it can only run by preempting a worker, and on 2 cores handing the work over costs more than it
 * saves. Measured on 1,000 GBM calls on 2 threads (README, "Where the time goes"): Burst's worker
 * isolates used 2–3 scavenger tasks in ~85 % of their scavenges (piscina's: 1 in ~98 %), V8's helper
 * threads woke ~4,900 times instead of ~250, and serial scavenges cut the run by 65–85 ms of wall
 * time and 120–145 ms of CPU. So while such a pool runs, young-generation collections
 * run on the collecting thread alone: a thread pool turns the flag off in this process (and back on
 * once the last such pool has closed), a process pool starts its workers with it.
 *
 * A process started with its own choice (`--parallel-scavenge`, `--no-parallel-scavenge`,
 * `--single-threaded-gc` or `--single-threaded`) is never changed.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/** The V8 flag that runs each young-generation collection on the collecting thread only. */
export const SERIAL_SCAVENGES = '--no-parallel-scavenge';

/** Whether a pool of `size` workers leaves no core idle for V8's helper threads. */
export function fillsCores(size: number): boolean {
  return size >= availableParallelism();
}

/** Whether this process was started with its own choice of how to scavenge. */
export function scavengingChosen(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((a) => /^--(no-)?parallel[-_]scavenge$|^--single[-_]threaded([-_]gc)?$/.test(a));
}

let holders = 0;

/**
 * Runs this process's young-generation collections on one thread until the returned release has
 * been called by every holder (idempotent). Does nothing when the process chose for itself.
 */
export function holdSerialScavenges(): () => void {
  if (scavengingChosen()) return () => {};
  if (holders++ === 0) setFlagsFromString(SERIAL_SCAVENGES);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) setFlagsFromString('--parallel-scavenge');
  };
}
