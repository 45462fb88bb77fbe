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
 * Burst does not see when a call starts on a remote backend, only when it ends, so "how long a call
 * has taken" is measured from when it was handed to the backend, for running and finished calls alike.
 */
import { ConfigError } from '../errors.js';
import type { SpeculativeOptions } from '../config/defaults.js';
import type { CallRecord } from '../worker/protocol.js';
import type { Future } from './future.js';
import { futureAt } from './future-job.js';

export type { SpeculativeOptions } from '../config/defaults.js';

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
   * When each call started (epoch ms), where the backend tells (a worker's claim in storage). With
   * it, calls are timed from their start and compared with finished calls' run times, so calls
   * waiting for a worker are never mistaken for stragglers; without it, both from their invocation.
   */
  startedAt?(): Promise<ReadonlyMap<number, number>>;
}

/** One job's speculation: finds stragglers, starts their backups, picks each call's first success. */
export class Speculator {
  /** Copies (attempts) of each backed-up call still running. */
  private readonly copies = new Map<number, Set<number>>();
  /** The original attempt of each backed-up call. */
  private readonly originals = new Map<number, number>();
  /** The highest attempt each backed-up call has used. */
  private readonly highest = new Map<number, number>();
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
    if (this.started >= this.limit) return;
    const n = this.futures.length;
    const fromStart = this.channel.startedAt !== undefined;
    const times: number[] = [];
    let finished = 0;
    for (const f of this.futures) {
      if (!f.done) continue;
      finished++;
      const { invoked, resultReceived, fnStart, fnEnd } = f.stats;
      if (f.status !== 'success' || f.stats.cached) continue;
      if (fromStart && fnStart !== undefined && fnEnd !== undefined) times.push(fnEnd - fnStart);
      else if (!fromStart && invoked !== undefined && resultReceived !== undefined)
        times.push(resultReceived - invoked);
    }
    if (finished < Math.ceil(this.spec.percentile * n) || times.length === 0) return;
    times.sort((a, b) => a - b);
    const median = times[Math.floor((times.length - 1) / 2)] as number;
    const threshold = Math.max(this.spec.minSeconds * 1000, this.spec.factor * median);
    const starts = fromStart ? await this.channel.startedAt?.() : undefined;
    const now = Date.now();
    const slow = this.futures
      .filter((f) => !f.done && !this.originals.has(f.callId))
      .map((f) => [f, starts ? starts.get(f.callId) : f.stats.invoked] as const)
      .filter((e): e is readonly [Future<unknown>, number] => e[1] !== undefined)
      .map(([f, since]) => [f, now - since] as const)
      .filter(([, took]) => took > threshold)
      .sort((a, b) => b[1] - a[1]);
    for (const [f] of slow) {
      if (this.started >= this.limit) break;
      this.backUp(f);
    }
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
