/**
 * A call's result read when it is asked for: a result too large for its status record (the
 * `output/<call>.<attempt>` object) is fetched by `future.result()` / `getResult()`, not when the
 * status arrives. So a job whose results only feed another job (`futures.map(fn)`, a reducer) never
 * downloads them into the client.
 */
import type { ErrorContext } from '../errors.js';
import { decode } from '../serialize/index.js';
import type { StorageDriver } from '../storage/types.js';
import type { CallRecord } from '../worker/protocol.js';
import { reviveResult } from './stored-result.js';

/** A record whose result is a separate object, with how to fetch it (set by the storage monitor). */
export type LazyOutputRecord = CallRecord & { loadOutput?: () => Promise<Uint8Array> };

/** A result not fetched yet; a future resolved with one fetches it on first read. */
export class LazyResult {
  constructor(readonly load: () => Promise<unknown>) {}
}

/** The value of a successful record: decoded now when inline, a {@link LazyResult} when stored apart. */
export function recordValue(record: LazyOutputRecord, storage: StorageDriver, context: ErrorContext): unknown {
  const what = `result of call ${record.callId}`;
  const load = record.loadOutput;
  if (record.output === undefined && load)
    return new LazyResult(async () => reviveResult(decode(await load(), what), storage, context));
  return reviveResult(decode(record.output ?? new Uint8Array(0), what), storage, context);
}
