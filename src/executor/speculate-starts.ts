/**
 * When the running calls of a storage-channel job started, as far as the client can tell, for
 * speculation (./speculate.ts). A worker writes its claim (`claims/<attempt>.<first call>.<nonce>`,
 * job/claims.ts) just before it runs the claimed calls, then hands them out in claim order to a pool of
 * processes (worker/handler.ts `runCalls`): the first ones start at once, each later one only when a
 * process frees up, and the claim does not say how many processes there are.
 *
 * So the claim's time is not every call's start: a call may still wait behind the others of its claim.
 * The rule never makes a call look older than it is: of each claim, only the first call whose copy the
 * client has not seen end is taken to be running (every call before it has ended, so a process was
 * free for it), and it is timed from the latest of the claim and those calls' ends as the client saw
 * them (after the worker did). The calls after it may run too (with several processes) or wait behind
 * it; they are timed once it ends. A straggler there gets its backup later, never a waiting call first.
 *
 * A finished call's time is reckoned the same way, from that start to its end as the client saw it: so
 * a running call is compared with what finished calls took counted alike, the worker's start-up
 * between its claim and the first call included.
 */

/** A worker's claim, as the storage channel reads it. */
export interface ClaimedCalls {
  /** The attempt the worker runs the calls as. */
  readonly attempt: number;
  /** When the claim was written (epoch ms): no call of it started before. */
  readonly at: number;
  /** The calls, in the order the worker hands them out. */
  readonly callIds: readonly number[];
}

/** When the client saw copy `attempt` of a call end (epoch ms); undefined while that copy may still run. */
export type SeenEnd = (callId: number, attempt: number) => number | undefined;

/** Each claim's leading calls seen to end, and the latest of their ends (or the claim's time). */
interface Progress {
  ended: number;
  since: number;
}

/** The starts of a job's claimed calls, kept up to date as claims come and calls end. */
export class ClaimedStarts {
  /** An ended copy stays ended: each look goes on from where the last one stopped. */
  private readonly progress = new WeakMap<ClaimedCalls, Progress>();
  /** What each call's latest copy seen to end took, from its start reckoned so to its end; NaN before. */
  private readonly took: Float64Array;

  /** For a job of `calls` calls. */
  constructor(calls: number) {
    this.took = new Float64Array(calls).fill(Number.NaN);
  }

  /** What the call's latest copy seen to end took (ms), reckoned as for a running call; undefined before. */
  tookOf(callId: number): number | undefined {
    const t = this.took[callId];
    return t === undefined || Number.isNaN(t) ? undefined : t;
  }

  /**
   * The start (epoch ms) of each call surely running, by call id: of each claim, its first call not
   * seen to end, when that claim is of the call's current attempt (`attemptOf`).
   */
  starts(
    claims: Iterable<ClaimedCalls>,
    seenEnd: SeenEnd,
    attemptOf: (callId: number) => number | undefined,
  ): Map<number, number> {
    const out = new Map<number, number>();
    for (const claim of claims) {
      let p = this.progress.get(claim);
      if (!p) this.progress.set(claim, (p = { ended: 0, since: claim.at }));
      for (; p.ended < claim.callIds.length; p.ended++) {
        const ended = claim.callIds[p.ended] as number;
        const end = seenEnd(ended, claim.attempt);
        if (end === undefined) break;
        if (ended < this.took.length) this.took[ended] = end - p.since;
        p.since = Math.max(p.since, end);
      }
      const id = claim.callIds[p.ended];
      // A claim of an earlier attempt (the call was retried, its new copy not claimed yet) says nothing.
      if (id === undefined || attemptOf(id) !== claim.attempt) continue;
      // The same copy in two claims: the later one, so the call never looks older.
      out.set(id, Math.max(out.get(id) ?? Number.NEGATIVE_INFINITY, p.since));
    }
    return out;
  }
}
