/**
 * Numbers the workers that call records name (host, pid, thread, start), each once, so a table of
 * many calls stores one small integer per call instead of the worker's fields. Used by the status
 * batches (./status.ts) and the futures' stats columns (executor/stats-columns.ts).
 */

/** A worker as a call's stats name it. */
export interface WorkerId {
  hostname: string;
  pid: number;
  /** Set for a worker thread of `pid`. */
  threadId: number | undefined;
  workerStart: number;
}

/** The workers seen so far, in order of first sight. */
export class WorkerIndex {
  /** Worker i of {@link indexOf}. */
  readonly list: WorkerId[] = [];
  private readonly byKey = new Map<string, number>();
  private last = -1;

  /** The worker's number, given one at first sight. */
  indexOf(s: { hostname?: string; pid?: number; threadId?: number | undefined; workerStart?: number }): number {
    const hostname = s.hostname ?? '';
    const pid = s.pid ?? 0;
    const workerStart = s.workerStart ?? 0;
    // Records come in runs from one worker: check the last one before building a key.
    const prev = this.list[this.last];
    if (
      prev &&
      prev.pid === pid &&
      prev.threadId === s.threadId &&
      prev.workerStart === workerStart &&
      prev.hostname === hostname
    )
      return this.last;
    const key = `${hostname}\0${pid}\0${s.threadId ?? ''}\0${workerStart}`;
    let w = this.byKey.get(key);
    if (w === undefined) {
      w = this.list.length;
      this.list.push({ hostname, pid, threadId: s.threadId, workerStart });
      this.byKey.set(key, w);
    }
    this.last = w;
    return w;
  }
}
