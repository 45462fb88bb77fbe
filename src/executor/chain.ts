/**
 * Futures as inputs, the client's half: an input that is (or holds) a {@link Future} waits for it
 * to settle, then travels as a reference (job + call + attempt) that the worker resolves from
 * storage (worker/input-refs.ts), so results of one job feed the next without passing through the
 * client. On the localhost IPC channel, whose results are not in storage, the value goes instead.
 * A failed future travels as a failed reference: the call that takes it fails with an UpstreamError.
 */
import { BurstError, CancelledError } from '../errors.js';
import { StoredResult } from './stored-result.js';
import type { ExecutorParts } from './parts.js';
import { Future } from './future.js';
import { callRef, carryRefs, type CallRef } from '../worker/input-refs.js';

/** Where the job that takes the inputs runs. */
export interface LinkContext {
  /** This executor's id: only its own storage-channel futures are passed by reference. */
  executorId: string;
  bucket: string;
  /** The job runs over the localhost IPC channel: results are not in storage, values are sent. */
  direct: boolean;
}

/** Containers deeper than this are not searched for futures. */
const MAX_DEPTH = 8;

/** True when an input is a Future or an array or plain object that holds one. */
export function holdsFuture(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return false;
  if (value instanceof Future) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (holdsFuture(v, depth + 1)) return true;
    return false;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const v of Object.values(value)) if (holdsFuture(v, depth + 1)) return true;
  return false;
}

/**
 * True when any of the inputs holds a future. An input whose inspection throws (a hostile Proxy) holds
 * none: the serializer then refuses it with a `SerializationError` naming its path.
 */
export function inputsHoldFutures(inputs: readonly unknown[]): boolean {
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    if (typeof input !== 'object' || input === null) continue; // most inputs: no call, no try
    try {
      if (holdsFuture(input)) return true;
    } catch {
      // internal: left to the serializer, which names the input
    }
  }
  return false;
}

/** Every future the inputs hold. */
export function futuresIn(inputs: readonly unknown[]): Future<unknown>[] {
  const out: Future<unknown>[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return;
    if (value instanceof Future) out.push(value as Future<unknown>);
    else if (Array.isArray(value)) for (const v of value) visit(v, depth + 1);
    else if (Object.getPrototypeOf(value) === Object.prototype)
      for (const v of Object.values(value)) visit(v, depth + 1);
  };
  for (const input of inputs) visit(input, 0);
  return out;
}

/**
 * The inputs with every (settled) future replaced: by a reference the worker reads from storage, or
 * on the IPC channel (and for another executor's futures) by its value. Inputs without futures are
 * unchanged; those with one are wrapped for the worker to resolve.
 */
export function linkInputs(inputs: readonly unknown[], link: LinkContext): unknown[] {
  return Array.from(inputs, (input) => (holdsFuture(input) ? carryRefs(replace(input, link, 0)) : input));
}

function replace(value: unknown, link: LinkContext, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (value instanceof Future) return referenceTo(value as Future<unknown>, link);
  if (Array.isArray(value)) return Array.from(value, (v) => replace(v, link, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = replace(v, link, depth + 1);
  return out;
}

/** What a settled future travels as. */
function referenceTo(f: Future<unknown>, link: LinkContext): unknown {
  const at: CallRef = { executorId: f.executorId, jobId: f.jobId, callId: f.callId };
  if (f.status === 'error') {
    const e = f.error;
    return callRef({
      ...at,
      failed: { name: e?.name ?? 'Error', message: e?.message ?? 'it failed', ...(e ? { code: e.code } : {}) },
    });
  }
  if (!link.direct && f.executorId === link.executorId)
    return callRef({ ...at, bucket: link.bucket, attempt: f.stats.attempt });
  const value = f._value();
  if (value instanceof StoredResult) {
    const driver = value.uri.slice(0, value.uri.indexOf('://'));
    const { bucket, key, size, sha256 } = value;
    return callRef({ ...at, stored: { driver, bucket, key, size, sha256 } });
  }
  return value;
}

/**
 * Submits a job whose inputs hold futures once those have settled; a failure to submit rejects the
 * job's futures (they were made and returned before).
 */
export function submitWhenLinked(
  parts: ExecutorParts,
  inputs: readonly unknown[],
  futures: readonly Future<unknown>[],
  submit: (linked: unknown[]) => Promise<unknown>,
): void {
  void (async () => {
    try {
      const held = futuresIn(inputs);
      await Promise.all(held.map((f) => f.settled()));
      const { backend } = await parts.ready();
      const link = { executorId: parts.executorId, bucket: parts.options.bucket, direct: backend.direct !== undefined };
      // Futures passed by value (IPC channel, another executor's) need their results here.
      const byValue = held.filter((f) => f.status === 'success' && (link.direct || f.executorId !== link.executorId));
      await Promise.all(byValue.map((f) => f._load()));
      const linked = linkInputs(inputs, link);
      await submit(linked);
    } catch (err) {
      const reason =
        err instanceof BurstError
          ? err
          : new CancelledError(`a job whose inputs are futures could not be submitted: ${String(err)}`, { cause: err });
      for (const f of futures) f._reject(reason);
    }
  })();
}
