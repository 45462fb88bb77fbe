/**
 * Speculative backups for stragglers (`speculative`), as MapReduce and Spark do it: once a share of
 * a job's calls has finished, a call that has taken much longer than their median gets a second copy.
 * The first copy to succeed settles the call; the other is cancelled through the backend.
 *
 * A backup is the call's next attempt (`status/<call>.<attempt>` keeps each copy's status apart, and a
 * success always wins over a cancelled copy's status, see job/status.ts), so it goes through the same
 * exactly-once machinery as a retry: a claim, an attempt-numbered status and output, newest-wins
 * readers. The call is still one future: counted once in results and stats, which record
 * `stats.backup` (`'won'` or `'lost'`). A copy that fails while the other still runs is ignored; when
 * both fail, the call fails (or is retried) as the higher attempt, so a retry never reuses a number.
 *
 * How long a call has taken is measured from when it surely started where the backend tells (a
 * storage channel: the workers' claims, ./speculate-starts.ts), for running and finished calls alike;
 * elsewhere (IPC) from when it was handed to the backend.
 *
 * `maxBackups` bounds the backups running at once, as Hadoop's speculative cap does: a backup stops
 * counting once its call settles, whichever copy won (the loser is cancelled, so it costs nothing more).
 * A backup given to a call that was no straggler after all is then not lost to the job's real ones.
 */
import { CancelledError, ConfigError } from '../errors.js';
import type { SpeculativeOptions } from '../config/defaults.js';
import type { CallRecord } from '../worker/protocol.js';
import type { Future } from './future.js';
import { countDone, futureAt } from './future-job.js';
import { type ClaimedCalls, ClaimedStarts } from './speculate-starts.js';

export type { SpeculativeOptions } from '../config/defaults.js';
export type { ClaimedCalls } from './speculate-starts.js';

/** Resolved {@link SpeculativeOptions}; `maxBackups` stays undefined for "10% of the calls". */
export interface Speculation {
  factor: number;
  percentile: number;
  minSeconds: number;
  maxBackups?: number;
}

/** How often a job with speculation looks for stragglers. */
const TICK_MS = 100;

/** Validates a `speculative` option; undefined when off. */
export function resolveSpeculative(value: unknown, keyPath = 'speculative'): Speculation | undefined {
  if (value === undefined || value === false) return undefined;
  const o: Record<string, unknown> = value === true ? {} : (value as Record<string, unknown>);
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new ConfigError(`${keyPath} must be true, false or an object of options, got ${describe(value)}`, {
      keyPath,
    });
  const known = ['factor', 'percentile', 'minSeconds', 'maxBackups'];
  for (const k of Object.keys(o))
    if (!known.includes(k))
      throw new ConfigError(`unknown option "${keyPath}.${k}"; known options: ${known.join(', ')}`, {
        keyPath: `${keyPath}.${k}`,
      });
  const num = (k: string, ok: (n: number) => boolean, what: string, fallback: number): number => {
    const v = o[k] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
      throw new ConfigError(`${keyPath}.${k} must be ${what}, got ${describe(v)}`, { keyPath: `${keyPath}.${k}` });
    return v;
  };
  const out: Speculation = {
    factor: num('factor', (n) => n >= 1, 'a number of at least 1', 3),
    percentile: num('percentile', (n) => n > 0 && n <= 1, 'a number above 0 and at most 1', 0.75),
    minSeconds: num('minSeconds', (n) => n >= 0, 'a non-negative number of seconds', 1),
  };
  if (o.maxBackups !== undefined)
    out.maxBackups = num('maxBackups', (n) => Number.isInteger(n) && n >= 1, 'a positive integer', 1);
  return out;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' && v !== null ? 'an object' : String(v);
}

/** What a job's submission path does for its speculator. */
export interface BackupChannel {
  /** Starts a copy of the call as `attempt`. */
  launch(callId: number, attempt: number): void;
  /** Stops the copy `attempt` of the call (it lost). */
  cancel(callId: number, attempt: number): void;
  /** Watches for the record of a copy still running after the other one's record was taken. */
  rewatch?(callId: number, attempt: number): void;
  /**
   * The workers' claims of the job so far, where the backend tells (a storage channel). With them, a
   * call is timed from when it surely started (./speculate-starts.ts) and compared with finished
   * calls' run times, so calls waiting for a worker, or behind another call of their claim, are never
   * taken for stragglers; without them, both are timed from the invocation.
   */
  claims?(): Promise<readonly ClaimedCalls[]>;
  /**
   * Whether copy `attempt` of the call has ended (its status is in storage) though the client has not
   * read it yet: such a call is only slow to report, not a straggler.
   */
  ended?(callId: number, attempt: number): Promise<boolean>;
}

/** One job's speculation: finds stragglers, starts their backups, picks each call's first success. */
export class Speculator {
  /** Copies (attempts) of each backed-up call still running. */
  private readonly copies = new Map<number, Set<number>>();
  /** The original attempt of each backed-up call. */
  private readonly originals = new Map<number, number>();
  /** The highest attempt each backed-up call has used. */
  private readonly highest = new Map<number, number>();
  /** When the client saw each failed copy (`<call>.<attempt>`): a retried call's copy in its claim has ended. */
  private readonly failedAt = new Map<string, number>();
  /** Copies (`<call>.<attempt>`) found ended in storage before the client read them. */
  private readonly endedUnread = new Set<string>();
  private readonly claimed: ClaimedStarts;
  /** Backups running at once at most. */
  private readonly limit: number;
  private started = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly futures: readonly Future<unknown>[],
    private readonly spec: Speculation,
    private readonly channel: BackupChannel,
  ) {
    this.limit = spec.maxBackups ?? Math.max(1, Math.ceil(futures.length * 0.1));
    this.claimed = new ClaimedStarts(futures.length);
  }

  /** Backups started so far. */
  get backups(): number {
    return this.started;
  }

  /** Starts looking for stragglers; stops by itself once every call is done. */
  start(): void {
    if (this.timer || this.futures.length === 0) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = true;
      void this.tick()
        .catch(() => undefined) // storage briefly unreachable: the next tick tries again
        .finally(() => (this.ticking = false));
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Called with each record before it settles its future: returns the record to settle (the first
   * success; a failure once no other copy runs, renumbered as the highest attempt) or undefined to
   * drop it (a failed copy while another still runs).
   */
  filter(record: CallRecord): CallRecord | undefined {
    const copy = `${record.callId}.${record.attempt}`;
    if (!record.ok && !this.failedAt.has(copy)) this.failedAt.set(copy, Date.now());
    const running = this.copies.get(record.callId);
    if (!running) return record;
    const f = futureAt(this.futures, record.callId);
    running.delete(record.attempt);
    if (record.ok) {
      for (const attempt of running) this.channel.cancel(record.callId, attempt);
      this.copies.delete(record.callId);
      if (f) f._stat('backup', record.attempt === this.originals.get(record.callId) ? 'lost' : 'won');
      return record;
    }
    if (running.size > 0) {
      for (const attempt of running) this.channel.rewatch?.(record.callId, attempt);
      return undefined;
    }
    this.copies.delete(record.callId);
    if (f) f._stat('backup', 'lost');
    return { ...record, attempt: this.highest.get(record.callId) ?? record.attempt };
  }

  private async tick(): Promise<void> {
    if (this.futures.every((f) => f.done)) return this.stop();
    if (this.running() >= this.limit) return;
    const n = this.futures.length;
    if (countDone(this.futures) < Math.ceil(this.spec.percentile * n)) return;
    const claims = await this.channel.claims?.();
    const starts =
      claims &&
      this.claimed.starts(
        claims,
        (id, attempt) => this.seenEnd(id, attempt),
        (id) => futureAt(this.futures, id)?._statOf('attempt'),
      );
    const times: number[] = [];
    for (const f of this.futures) {
      if (!f.done || f.status !== 'success') continue;
      const { invoked, resultReceived, fnStart, fnEnd, cached } = f.stats;
      if (cached) continue;
      if (!starts && invoked !== undefined && resultReceived !== undefined) times.push(resultReceived - invoked);
      else if (starts && fnStart !== undefined && fnEnd !== undefined)
        // Counted as running calls are (./speculate-starts.ts), and never less than the function ran.
        times.push(Math.max(fnEnd - fnStart, this.claimed.tookOf(f.callId) ?? 0));
    }
    if (times.length === 0) return;
    times.sort((a, b) => a - b);
    const median = times[Math.floor((times.length - 1) / 2)] as number;
    const threshold = Math.max(this.spec.minSeconds * 1000, this.spec.factor * median);
    const now = Date.now();
    const slow = this.futures
      .filter((f) => !f.done && !this.originals.has(f.callId))
      .map((f) => [f, starts ? starts.get(f.callId) : f.stats.invoked] as const)
      .filter((e): e is readonly [Future<unknown>, number] => e[1] !== undefined)
      .map(([f, since]) => [f, now - since] as const)
      .filter(([, took]) => took > threshold)
      .sort((a, b) => b[1] - a[1]);
    for (const [f] of slow) {
      if (this.running() >= this.limit) break;
      if (await this.reportsLate(f)) continue;
      if (!f.done && !this.originals.has(f.callId)) this.backUp(f);
    }
  }

  /** Backed-up calls not settled yet: what the budget counts. */
  private running(): number {
    let n = 0;
    for (const id of this.originals.keys()) if (!futureAt(this.futures, id)?.done) n++;
    return n;
  }

  /**
   * When the client saw copy `attempt` of the call end, or undefined while that copy may still run
   * in its claim: a cancelled call's (its worker may not have stopped it yet), or the original of a
   * call its backup settled (cancelling one call of a claim does not stop the claim's worker).
   */
  private seenEnd(callId: number, attempt: number): number | undefined {
    const failed = this.failedAt.get(`${callId}.${attempt}`);
    if (failed !== undefined) return failed;
    const f = futureAt(this.futures, callId);
    if (!f?.done || f.error instanceof CancelledError) return undefined;
    const original = this.originals.get(callId);
    const settledBy =
      original === undefined
        ? f._statOf('attempt')
        : f._statOf('backup') === 'lost'
          ? original
          : this.highest.get(callId);
    return settledBy === attempt ? f._statOf('resultReceived') : undefined;
  }

  /** Whether the call's copy has ended in storage, its record not read yet: it is no straggler. */
  private async reportsLate(f: Future<unknown>): Promise<boolean> {
    if (!this.channel.ended) return false;
    const attempt = f._statOf('attempt');
    const copy = `${f.callId}.${attempt}`;
    if (this.endedUnread.has(copy)) return true;
    if (!(await this.channel.ended(f.callId, attempt))) return false;
    this.endedUnread.add(copy);
    return true;
  }

  private backUp(f: Future<unknown>): void {
    const original = f.stats.attempt;
    const backup = original + 1;
    this.started++;
    this.originals.set(f.callId, original);
    this.highest.set(f.callId, backup);
    this.copies.set(f.callId, new Set([original, backup]));
    this.channel.launch(f.callId, backup);
  }
}
