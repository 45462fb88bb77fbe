/**
 * The shapes the stats functions work on. A {@link CallLike} is anything that looks like a call: a
 * `Future` of this process, or a call rebuilt from the status records in storage (`burst plot`, the
 * dashboard), so summaries and plots are the same whichever way they were made.
 */

/** The state of a call, as a Future reports it. */
export type CallState = 'new' | 'invoked' | 'running' | 'success' | 'error';

/** Timings (epoch ms) and facts of one call; every field may be missing for a call still running. */
export interface CallTimes {
  /** When the call was accepted by `map` (from storage: when the job was written). */
  submitted?: number;
  /** When the call was handed to the backend. */
  invoked?: number;
  workerStart?: number;
  fnStart?: number;
  fnEnd?: number;
  /** When the client got the result (from storage: when the status record was written). */
  resultReceived?: number;
  /**
   * When the call's status record was written: by the worker through storage, by the client for
   * IPC calls. The same number whether the call is a Future or was read back from storage, so the
   * summary's `result` and `total` stages end here when it is known.
   */
  stored?: number;
  cold?: boolean;
  /** 1 on the first run, 2 after one retry, … */
  attempt?: number;
  bytesIn?: number;
  bytesOut?: number;
  hostname?: string;
  pid?: number;
  /** The worker thread that ran the call, when the worker was a thread of `pid`. */
  threadId?: number;
  location?: import('../worker/protocol.js').CallLocation;
  /** True when the result came from the result cache. */
  cached?: boolean;
  /** Set when a speculative backup of the call was started: which copy's result was kept. */
  backup?: 'won' | 'lost';
}

/** One call: a `Future` fits this shape. */
export interface CallLike {
  readonly executorId: string;
  readonly jobId: string;
  readonly callId: number;
  readonly status: CallState;
  readonly stats: CallTimes;
  readonly error?: { readonly name: string; readonly message: string } | undefined;
}

/** Minimum, median, 95th percentile, maximum and mean of a set of durations, in ms. */
export interface Distribution {
  /** How many calls had this duration measured. */
  count: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

/** An estimate of what a job cost on its backend. */
export interface CostEstimate {
  backend: string;
  currency: string;
  /** Compute plus requests. */
  total: number;
  /** GB-seconds times the price per GB-second. */
  compute: number;
  /** Invocations times the price per request. */
  requests: number;
  gbSeconds: number;
  invocations: number;
  /** Where the prices come from and what the estimate leaves out. */
  note: string;
}

/** Aggregates of one job. */
export interface JobSummary {
  executorId: string;
  jobId: string;
  /** Number of calls. */
  calls: number;
  /** Calls by state. */
  states: Record<CallState, number>;
  /** Time from the job's first submit to its last result, in ms (undefined while nothing finished). */
  wallTime?: number;
  /** Waiting for a worker: invoked (or submitted) → function start. */
  queue?: Distribution;
  /** The function itself: function start → function end. */
  run?: Distribution;
  /** Getting the result out: function end → status record written (else result received). */
  result?: Distribution;
  /** Whole call: submitted → status record written (else result received). */
  total?: Distribution;
  /** Calls that paid a worker start. */
  coldStarts: number;
  /** Runs in all (a retried call counts each attempt). */
  attempts: number;
  /** Calls that ran more than once. */
  retriedCalls: number;
  /** Calls whose result came from the result cache (`cache: true`): they did not run. */
  cachedCalls: number;
  /** Calls that got a speculative backup copy, and of those, the calls whose backup's result was kept. */
  backups: number;
  backupsWon: number;
  bytesIn: number;
  bytesOut: number;
  /** Distinct hosts and workers (processes, or threads of one) that ran calls. */
  hosts: string[];
  workerProcesses: number;
  /** Undefined when the backend has no price table. */
  cost?: CostEstimate;
}
