/**
 * The calls of a pool task not handed out yet. A task's calls can be a list made on demand
 * ({@link CallList}): a map of 10^6 inputs then holds a call object only while a worker has it,
 * not one per input for the whole job.
 */
import type { PoolCall } from './protocol.js';

/** Calls made when taken: call i of `length`. */
export interface CallList {
  readonly length: number;
  call(i: number): PoolCall;
}

/** Call i is input i, first attempt. */
export function firstAttempts(inputs: readonly unknown[]): CallList {
  return { length: inputs.length, call: (i) => ({ callId: i, attempt: 1, input: inputs[i] }) };
}

/** A task's calls in order: those given back first, then the task's own from a cursor. */
export class CallQueue {
  private back: PoolCall[] = [];
  private backAt = 0;
  private next = 0;

  constructor(private source: readonly PoolCall[] | CallList) {}

  /** Calls left. */
  get size(): number {
    return this.back.length - this.backAt + this.source.length - this.next;
  }

  take(): PoolCall | undefined {
    if (this.backAt < this.back.length) {
      const call = this.back[this.backAt++] as PoolCall;
      if (this.backAt === this.back.length) {
        this.back = [];
        this.backAt = 0;
      }
      return call;
    }
    if (this.next >= this.source.length) return undefined;
    const i = this.next++;
    return Array.isArray(this.source) ? (this.source as PoolCall[])[i] : (this.source as CallList).call(i);
  }

  /** Puts calls back in front, in their order: they are taken before any other. */
  putBack(calls: readonly PoolCall[]): void {
    if (calls.length === 0) return;
    this.back = calls.concat(this.back.slice(this.backAt));
    this.backAt = 0;
  }

  /** Drops every call left. */
  clear(): void {
    this.back = [];
    this.backAt = 0;
    this.source = [];
    this.next = 0;
  }

  /** Takes every call left. */
  takeAll(): PoolCall[] {
    const out: PoolCall[] = [];
    for (let c = this.take(); c; c = this.take()) out.push(c);
    return out;
  }
}
