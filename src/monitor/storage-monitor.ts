/**
 * Watches storage for the status records of running calls (the path every remote backend uses). It
 * lists only the job's status prefix, fetches only records it has not seen, backs off while nothing
 * changes, and asks the backend about calls whose workers ended without a status, so a silently
 * killed worker becomes a failed call instead of a hang.
 */
import type { ComputeBackend, JobDescriptor, LostCallInfo } from '../backends/types.js';
import type { ObjectInfo, StorageDriver } from '../storage/types.js';
import { isPrefixEntry } from '../storage/types.js';
import { keys, pad, parseCallKey } from '../job/layout.js';
import { decodeStatus, newerStatus, toCallRecord } from '../job/status.js';
import type { CallRecord, SerializedError } from '../worker/protocol.js';

/** How often to poll, in ms. */
export interface PollInterval {
  min: number;
  max: number;
}

interface Watched {
  job: JobDescriptor;
  /** Calls still expected, with the attempt whose status we wait for. */
  pending: Map<number, number>;
  seen: Map<string, string>;
  /** Who gets each call's record: a re-run of some calls (retryFailed) settles futures of its own. */
  receivers: Map<number, (record: CallRecord) => void>;
  lastLostCheck: number;
  /** Where the next poll's listing goes on when the last one stopped at a full page. */
  cursor?: string | undefined;
}

const LOST_CHECK_MS = 2000;
/**
 * Keys one poll lists at most (one S3 page): a poll costs one LIST whatever the job's size, and
 * the next poll goes on from where it stopped, so polling requests per second do not grow with the
 * number of calls (the fan-out model, bench/fanout, measured 10 LIST pages per poll at 10,000 calls).
 */
const KEYS_PER_POLL = 1000;
/** Status objects fetched at once: at 10,000 calls, 16 at a time left results waiting for seconds. */
const FETCH_CONCURRENCY = 64;

/** Polls storage for call status records. */
export class StorageMonitor {
  private readonly jobs = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private polling = false;
  /** The error of the latest poll when it failed (storage unreachable); cleared by a poll that works. */
  lastError: unknown;
  /** LIST and GET requests made so far (polling costs money on cloud storage). */
  readonly requests = { list: 0, get: 0 };

  constructor(
    private readonly storage: StorageDriver,
    private readonly backend: ComputeBackend,
    private readonly interval: PollInterval,
  ) {
    this.delay = interval.min;
  }

  /** Starts watching calls of a job for the given attempt. */
  expect(
    job: JobDescriptor,
    callIds: readonly number[],
    attempt: number,
    onRecord: (record: CallRecord) => void,
  ): void {
    let w = this.jobs.get(job.jobKey);
    if (!w) {
      w = { job, pending: new Map(), seen: new Map(), receivers: new Map(), lastLostCheck: Date.now() };
      this.jobs.set(job.jobKey, w);
    }
    for (const id of callIds) {
      w.pending.set(id, attempt);
      w.receivers.set(id, onRecord);
    }
    this.delay = this.interval.min;
    this.schedule();
  }

  /** Stops watching a job (cancelled or closed). */
  forget(jobKey: string): void {
    this.jobs.delete(jobKey);
  }

  /** Stops all polling. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.jobs.clear();
  }

  private schedule(): void {
    if (this.timer || this.polling || this.jobs.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, this.delay);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    let found = 0;
    try {
      for (const w of [...this.jobs.values()]) {
        found += await this.pollJob(w);
        if (Date.now() - w.lastLostCheck >= LOST_CHECK_MS) await this.checkLost(w);
        if (w.pending.size === 0) this.jobs.delete(w.job.jobKey);
      }
      this.lastError = undefined;
    } catch (err) {
      // A failed poll (storage briefly unreachable) is retried at the next interval; waits report it.
      this.lastError = err;
    } finally {
      this.polling = false;
    }
    // A listing that stopped at a full page goes on at once: only idle polls back off.
    const sweeping = [...this.jobs.values()].some((w) => w.cursor !== undefined);
    this.delay = found > 0 || sweeping ? this.interval.min : Math.min(this.interval.max, Math.ceil(this.delay * 1.5));
    this.schedule();
  }

  private async pollJob(w: Watched): Promise<number> {
    const fresh: string[] = [];
    this.requests.list++;
    const prefix = keys.statusPrefix(w.job.jobKey);
    const low = beforePending(prefix, w.pending.keys());
    const startAfter = w.cursor !== undefined && (low === undefined || w.cursor > low) ? w.cursor : low;
    w.cursor = undefined;
    let listed = 0;
    for await (const entry of this.storage.list(w.job.bucket, prefix, startAfter ? { startAfter } : undefined)) {
      if (isPrefixEntry(entry)) continue;
      if (this.isFresh(w, entry)) fresh.push(entry.key);
      if (++listed === KEYS_PER_POLL) {
        w.cursor = entry.key; // the next poll lists on after it
        break;
      }
    }
    // Several attempts of a call may land in one poll: the newest one settles it.
    const newest = new Map<number, CallRecord & { storedAt?: number }>();
    await mapLimit(fresh, FETCH_CONCURRENCY, async (key) => {
      const record = await this.fetchRecord(w, key);
      if (record && newerStatus(newest.get(record.callId), record)) newest.set(record.callId, record);
    });
    let delivered = 0;
    for (const record of newest.values()) {
      const wanted = w.pending.get(record.callId);
      if (wanted === undefined || record.attempt < wanted) continue; // a status left by an earlier attempt
      w.pending.delete(record.callId);
      delivered++;
      this.deliver(w, record);
    }
    return delivered;
  }

  /** Whether a listed status object is one to fetch: a pending call's, of its attempt, not seen as it is. */
  private isFresh(w: Watched, entry: ObjectInfo): boolean {
    const parsed = parseCallKey(entry.key);
    const wanted = parsed && w.pending.get(parsed.callId);
    if (wanted === undefined) return false;
    const keyAttempt = parsed?.attempt;
    if (keyAttempt !== undefined && keyAttempt < wanted) return false; // an earlier attempt's status: not fetched
    const tag = `${entry.etag ?? ''}/${entry.size}/${entry.lastModified?.getTime() ?? ''}`;
    if (w.seen.get(entry.key) === tag) return false;
    w.seen.set(entry.key, tag);
    return true;
  }

  private async fetchRecord(w: Watched, key: string): Promise<(CallRecord & { storedAt?: number }) | undefined> {
    this.requests.get++;
    const keyAttempt = parseCallKey(key)?.attempt;
    const stored = decodeStatus(await this.storage.get(w.job.bucket, key), { bucket: w.job.bucket, key }, keyAttempt);
    const record = toCallRecord(stored);
    if (record.output === undefined && stored.outputStored) {
      // A status of the older layout (no attempt in its key) has its output under the older key too.
      const outKey =
        keyAttempt === undefined
          ? keys.legacyOutput(w.job.jobKey, stored.callId)
          : keys.output(w.job.jobKey, stored.callId, stored.attempt);
      // Fetched when the result is read (executor/lazy-result.ts): results that only feed another job never come here.
      (record as CallRecord & { loadOutput?: () => Promise<Uint8Array> }).loadOutput = () => {
        this.requests.get++;
        return this.storage.get(w.job.bucket, outKey);
      };
    }
    return record;
  }

  private deliver(w: Watched, record: CallRecord): void {
    const onRecord = w.receivers.get(record.callId);
    w.receivers.delete(record.callId);
    onRecord?.(record);
  }

  private async checkLost(w: Watched): Promise<void> {
    w.lastLostCheck = Date.now();
    if (!this.backend.lostCalls || w.pending.size === 0) return;
    const lost = await this.backend.lostCalls(w.job, [...w.pending.keys()]);
    if (lost.size === 0) return;
    await this.pollJob(w); // a worker may have written its status just before it ended
    for (const [id, info] of lost) {
      const attempt = w.pending.get(id);
      if (attempt === undefined) continue;
      w.pending.delete(id);
      const now = Date.now();
      this.deliver(w, {
        callId: id,
        ok: false,
        attempt,
        error: lostError(w.job, id, info),
        stats: {
          workerStart: now,
          fnStart: now,
          fnEnd: now,
          cold: true,
          bytesIn: 0,
          bytesOut: 0,
          hostname: '',
          pid: 0,
        },
      });
    }
  }
}

/**
 * A listing start just below every pending call's status key (`<call>` and `<call>.<attempt>`):
 * statuses of calls that all sort before it are settled and need no listing. Undefined when no call
 * is pending. Call ids of six digits and more sort among the five-digit ones, so this takes the
 * least key in string order, not the least id.
 */
export function beforePending(prefix: string, pending: Iterable<number>): string | undefined {
  let least: string | undefined;
  for (const id of pending) {
    const p = pad(id);
    if (least === undefined || p < least) least = p;
  }
  if (least === undefined) return undefined;
  // One below the least key: its last digit lowered by one ('0' becomes '/'), then '~', which sorts
  // after the '.' and the digits that follow a call id in a status key.
  const last = least.charCodeAt(least.length - 1);
  return `${prefix}${least.slice(0, -1)}${String.fromCharCode(last - 1)}~`;
}

function lostError(job: JobDescriptor, callId: number, info: LostCallInfo): SerializedError {
  const what = `call ${callId} of job ${job.jobId} ended without writing a result (backend state ${info.state}${info.reason ? `: ${info.reason}` : ''})`;
  const base = {
    name: 'WorkerCrashError',
    message: what,
    exitCode: info.exitCode ?? null,
    signal: info.signal ?? null,
  };
  if (/OUT_OF_MEMORY|OOM/i.test(info.state)) return { ...base, kind: 'oom', name: 'OutOfMemoryError' };
  if (/TIMEOUT|DEADLINE/i.test(info.state)) return { ...base, kind: 'timeout', name: 'TimeoutError' };
  return { ...base, kind: 'crash' };
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(lanes);
}
