/**
 * Speculative backups (src/executor/speculate.ts) on a storage channel: the real Speculator over a
 * map's real futures, settled by call records as the storage monitor hands them over, with a backup
 * channel that reports the workers' claims and the statuses in storage as a bucket would. A worker
 * runs a claim's calls in order, so a call waiting behind a straggler of its claim, or one that has
 * ended but not reported yet, must never take the backup budget from the call that has really run
 * longest; and a backup stops counting once its call settles.
 *
 * Times are tens of seconds apart and in the past: which call gets a backup never depends on how fast
 * the test runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
// The module registers the class a job's futures are made of (src/executor/future-job.ts).
import type { Future } from '../../src/executor/future.ts';
import '../../src/executor/future.ts';
import { FutureJob, markAllInvoked } from '../../src/executor/future-job.ts';
import { FutureList } from '../../src/executor/future-list.ts';
import { settle, type SubmitOptions } from '../../src/executor/settle.ts';
import { type BackupChannel, type ClaimedCalls, Speculator } from '../../src/executor/speculate.ts';
import { StatsColumns } from '../../src/executor/stats-columns.ts';

/** How long a finished call ran: the median, so a call running 3× as long is a straggler. */
const RUN_MS = 100;
/** A backup that never comes fails the test here. */
const WAIT = { timeout: 20_000 };
const CONTEXT = { jobId: 'J', executorId: 'E', backend: 'test' };

interface Options {
  n: number;
  maxBackups: number;
  /** The workers' claims so far; none for the IPC channel (calls are timed from their invocation). */
  claims?: ClaimedCalls[];
  /** Copies (`<call>.<attempt>`) whose status is in storage, not read by the client yet. */
  stored?: Set<string>;
  retries?: number;
}

/** A map's futures, its speculator, and what the speculator asked of the backend. */
function job(o: Options) {
  const futures = FutureList.lazy_<number>(new FutureJob('E', 'J', new StatsColumns(o.n, Date.now())));
  markAllInvoked(futures, Date.now(), Date.now());
  const launched: string[] = [];
  const cancelled: string[] = [];
  /** How many times the speculator has looked at the claims: once a tick, past the percentile. */
  let looks = 0;
  let wake = (): void => undefined;
  const stored = o.stored ?? new Set<string>();
  const claims = o.claims;
  const channel: BackupChannel = {
    launch: (callId, attempt) => {
      launched.push(`${callId}.${attempt}`);
      wake();
    },
    cancel: (callId, attempt) => void cancelled.push(`${callId}.${attempt}`),
    ...(claims
      ? {
          claims: async () => {
            looks++;
            wake();
            return claims;
          },
          ended: async (callId: number, attempt: number) => stored.has(`${callId}.${attempt}`),
        }
      : {}),
  };
  /** Runs the speculator until `done` holds (checked at each launch and look), then stops it. */
  const until = (done: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      // The speculator's timer does not hold the process open (a job's wait does): this one does.
      const hold = setInterval(() => undefined, 1000);
      wake = () => {
        if (!done()) return;
        spec.stop();
        clearInterval(hold);
        resolve();
      };
      spec.start();
    });
  const spec = new Speculator(
    futures,
    { factor: 3, percentile: 0.5, minSeconds: 0, maxBackups: o.maxBackups },
    channel,
  );
  const options: SubmitOptions = { timeout: 600, retries: o.retries ?? 0, env: {}, hasArgs: false, args: undefined };
  return {
    futures,
    spec,
    launched,
    cancelled,
    /** A copy's record reaches the client, which saw it at `seenAt` (epoch ms; now when omitted). */
    deliver(callId: number, attempt: number, ok: boolean, seenAt?: number): void {
      const fnEnd = (seenAt ?? Date.now()) - 5;
      const record = spec.filter({
        callId,
        attempt,
        ok,
        ...(ok ? { value: callId * 2 } : { error: { kind: 'remote', name: 'Error', message: 'failed' } }),
        stats: {
          workerStart: 0,
          fnStart: fnEnd - RUN_MS,
          fnEnd,
          cold: false,
          bytesIn: 0,
          bytesOut: 0,
          hostname: 'h',
          pid: 1,
        },
      });
      if (!record) return;
      settle(
        futures,
        record,
        options,
        CONTEXT,
        () => record.value,
        () => undefined,
      );
      if (seenAt !== undefined) (futures[callId] as Future<number>)._stat('resultReceived', seenAt);
    },
    /** Starts the speculator; resolves with the backups launched once there are `count`, and stops it. */
    async backups(count: number): Promise<string[]> {
      await until(() => launched.length >= count);
      return [...launched];
    },
    /**
     * Starts the speculator; resolves with the backups launched once it has looked at the claims
     * `more` times: the look that starts a tick comes after the tick before has ended.
     */
    async afterLooks(more: number): Promise<string[]> {
      const target = looks + more;
      await until(() => looks >= target);
      return [...launched];
    },
  };
}

/**
 * Calls 0 to 3 each ran alone a minute ago for RUN_MS, their results read at once (the `deliver` above
 * at `now - 60_000 + RUN_MS`): the finished share, and the median.
 */
function finishedEarly(now: number): ClaimedCalls[] {
  return [0, 1, 2, 3].map((id) => ({ attempt: 1, at: now - 60_000, callIds: [id] }));
}

for (const maxBackups of [1, 2]) {
  test(
    `a call waiting behind the straggler in its claim never gets a backup first (maxBackups: ${maxBackups})`,
    WAIT,
    async () => {
      const now = Date.now();
      // One worker took 4 to 7 thirty seconds ago: 4 (slow too) ended ten seconds ago, so 5 has run
      // since then, and 6 and 7 wait behind it. Another took 8 twenty seconds ago: 8 has run longest.
      const claims = [
        ...finishedEarly(now),
        { attempt: 1, at: now - 30_000, callIds: [4, 5, 6, 7] },
        { attempt: 1, at: now - 20_000, callIds: [8] },
      ];
      const j = job({ n: 9, maxBackups, claims });
      for (const id of [0, 1, 2, 3]) j.deliver(id, 1, true, now - 60_000 + RUN_MS);
      j.deliver(4, 1, true, now - 10_000);
      const backups = await j.backups(maxBackups);
      assert.deepEqual(backups, ['8.2', '5.2'].slice(0, maxBackups), 'the longest running first, then 5; never 6 or 7');
    },
  );
}

test('a call that has ended but not reported yet is no straggler', WAIT, async () => {
  const now = Date.now();
  // 4 ran alone long ago and its status is in storage; the client has not read it yet.
  const claims = [
    ...finishedEarly(now),
    { attempt: 1, at: now - 40_000, callIds: [4] },
    { attempt: 1, at: now - 20_000, callIds: [5] },
  ];
  const j = job({ n: 6, maxBackups: 1, claims, stored: new Set(['4.1']) });
  for (const id of [0, 1, 2, 3]) j.deliver(id, 1, true, now - 60_000 + RUN_MS);
  assert.deepEqual(await j.backups(1), ['5.2']);
});

test(
  "a finished call's time counts from its claim, as a running call's: the worker's start-up is no straggling",
  WAIT,
  async () => {
    const now = Date.now();
    // Each worker took ten seconds to start its process after its claim: 0 to 3 ran for RUN_MS each,
    // but took ten seconds from their claims. 4 has been running twenty seconds (a normal call here),
    // 5 forty (a straggler).
    const claims = [
      ...[0, 1, 2, 3].map((id) => ({ attempt: 1, at: now - 70_000, callIds: [id] })),
      { attempt: 1, at: now - 20_000, callIds: [4] },
      { attempt: 1, at: now - 40_000, callIds: [5] },
    ];
    const j = job({ n: 6, maxBackups: 2, claims });
    for (const id of [0, 1, 2, 3]) j.deliver(id, 1, true, now - 60_000);
    assert.deepEqual(await j.backups(1), ['5.2']);
    // One whole tick later (the second look starts the tick after it), 4 still has none.
    assert.deepEqual(await j.afterLooks(2), ['5.2']);
  },
);

test('a call behind a retried one is timed from the failure; the retry waits for its own claim', WAIT, async () => {
  const now = Date.now();
  const claims = [
    ...finishedEarly(now),
    { attempt: 1, at: now - 30_000, callIds: [4, 5] },
    { attempt: 1, at: now - 20_000, callIds: [6] },
  ];
  const j = job({ n: 7, maxBackups: 2, claims, retries: 1 });
  for (const id of [0, 1, 2, 3]) j.deliver(id, 1, true, now - 60_000 + RUN_MS);
  j.deliver(4, 1, false); // fails now: retried as attempt 2, which no worker has claimed yet
  assert.equal(j.futures[4]?.stats.attempt, 2);
  // 6 has run twenty seconds; 5 only since 4 failed, so it comes second, once it is 3× the median.
  assert.deepEqual(await j.backups(2), ['6.2', '5.2']);
});

test('a call behind a cancelled one waits: the worker may still run the cancelled call', WAIT, async () => {
  const now = Date.now();
  const claims = [
    ...finishedEarly(now),
    { attempt: 1, at: now - 30_000, callIds: [4, 5] },
    { attempt: 1, at: now - 20_000, callIds: [6] },
  ];
  const j = job({ n: 7, maxBackups: 2, claims });
  for (const id of [0, 1, 2, 3]) j.deliver(id, 1, true, now - 60_000 + RUN_MS);
  // Cancelled 25 seconds ago: settled on the client, but the worker runs its claim on.
  assert.equal(j.futures[4]?.cancel(), true);
  j.futures[4]?._stat('resultReceived', now - 25_000);
  assert.deepEqual(await j.backups(1), ['6.2']);
  assert.deepEqual(await j.afterLooks(2), ['6.2'], 'no backup for 5, which may not have started');
});

test('a backup stops counting against maxBackups once its call settles, whichever copy won', WAIT, async () => {
  const now = Date.now();
  const claims = [
    ...finishedEarly(now),
    { attempt: 1, at: now - 40_000, callIds: [4] },
    { attempt: 1, at: now - 30_000, callIds: [5] },
    { attempt: 1, at: now - 20_000, callIds: [6] },
  ];
  const j = job({ n: 7, maxBackups: 1, claims });
  for (const id of [0, 1, 2, 3]) j.deliver(id, 1, true, now - 60_000 + RUN_MS);
  assert.deepEqual(await j.backups(1), ['4.2']);
  j.deliver(4, 1, true); // the original won: its backup is cancelled and frees the budget
  assert.deepEqual(await j.backups(2), ['4.2', '5.2']);
  j.deliver(5, 2, true); // the backup won: the original is cancelled
  assert.deepEqual(await j.backups(3), ['4.2', '5.2', '6.2']);
  assert.deepEqual(j.cancelled, ['4.2', '5.1']);
  assert.equal(j.spec.backups, 3);
  assert.deepEqual(
    [4, 5].map((id) => j.futures[id]?.stats.backup),
    ['lost', 'won'],
  );
});

test('without claims (the IPC channel) a call is timed from its invocation', WAIT, async () => {
  const now = Date.now();
  const j = job({ n: 6, maxBackups: 1 });
  for (const id of [0, 1, 2, 3]) {
    j.futures[id]?._stat('invoked', now - 60_000);
    j.deliver(id, 1, true, now - 60_000 + RUN_MS);
  }
  j.futures[4]?._stat('invoked', now - 20_000);
  j.futures[5]?._stat('invoked', now - 30_000);
  assert.deepEqual(await j.backups(1), ['5.2']);
});
