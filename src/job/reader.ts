/**
 * Reads the status records of a job back from storage, from both places a worker or client leaves
 * them: one object per call and attempt under `<job>/status/<call>.<attempt>` (what `burst worker run` writes), and JSON
 * arrays of records under `<job>/status-batches/<n>` (how the localhost IPC channel persists them).
 * Used by `burst jobs`, `burst logs`, `burst plot` and the dashboard.
 */
import type { StorageDriver } from '../storage/types.js';
import type { SerializedError, WorkerCallStats } from '../worker/protocol.js';
import { MalformedRecordError } from '../errors.js';
import { keys, parseClaimKey } from './layout.js';
import { decodeClaim } from './claims.js';
import { decodeStatusList, newerStatus } from './status.js';

/** One call's latest status record as stored, with where and when it was written. */
export interface StoredCallStatus {
  callId: number;
  ok: boolean;
  /** 1 on the first run, 2 after one retry, … */
  attempt: number;
  error?: SerializedError;
  stats: Partial<WorkerCallStats>;
  /** The call's captured stdout and stderr (the last part when long). */
  logs?: string;
  /** True when the result is a separate `output/<call>` object. */
  outputStored?: boolean;
  /** When the record's object was last written (epoch ms), when the store says. */
  storedAt?: number;
  /** `status` for a per-call object, `batch` for a record of a status batch. */
  source: 'status' | 'batch';
}

/** Records of objects already read, by key, so polling re-reads only objects that changed. */
export type StatusCache = Map<string, { tag: string; records: StoredCallStatus[] }>;

/** Prefix of a job's per-call status objects. */
export const statusPrefix = keys.statusPrefix;
/** Prefix of a job's status batch objects. */
export const batchPrefix = keys.statusBatchPrefix;

const FETCH_CONCURRENCY = 16;

/**
 * The latest status record of every call of the job that has one, in call order. When a call has
 * records in both places, or several attempts (`status/<call>.<attempt>`), the highest attempt wins,
 * then the later write ({@link newerStatus}), whatever order the writes landed in.
 * Objects that are not valid status JSON are skipped. Pass the same `cache` on each poll to fetch
 * only objects that changed.
 */
export async function readJobStatuses(
  storage: StorageDriver,
  bucket: string,
  jobKey: string,
  cache: StatusCache = new Map(),
): Promise<StoredCallStatus[]> {
  const [single, batches] = await Promise.all([
    listObjects(storage, bucket, statusPrefix(jobKey)),
    listObjects(storage, bucket, batchPrefix(jobKey)),
  ]);
  const wanted = [
    ...single.map((o) => ({ ...o, source: 'status' as const })),
    ...batches.map((o) => ({ ...o, source: 'batch' as const })),
  ];
  const live = new Set(wanted.map((o) => o.key));
  for (const key of cache.keys()) if (!live.has(key)) cache.delete(key);
  const stale = wanted.filter((o) => cache.get(o.key)?.tag !== o.tag);
  await forEachLimit(stale, FETCH_CONCURRENCY, async (o) => {
    let text: string;
    try {
      text = Buffer.from(await storage.get(bucket, o.key)).toString('utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'NO_SUCH_KEY') return; // deleted since the listing
      throw err;
    }
    cache.set(o.key, { tag: o.tag, records: parseRecords(text, o.key, o.source, o.storedAt) });
  });
  const byCall = new Map<number, StoredCallStatus>();
  for (const o of wanted) {
    for (const r of cache.get(o.key)?.records ?? []) {
      if (newerStatus(byCall.get(r.callId), r)) byCall.set(r.callId, r);
    }
  }
  return [...byCall.values()].sort((a, b) => a.callId - b.callId);
}

/** A worker's claim on a call: the attempt, when it was written, and how many calls it took with it. */
export interface CallClaim {
  attempt: number;
  /** Epoch ms, when the store says. */
  claimedAt?: number;
  /** Calls in the same claim (they may run one after another). */
  batch: number;
}

/**
 * The calls some worker took (`claims/`), with the newest claim of each. A call with neither a
 * claim nor a status was never handed to a worker.
 */
export async function readClaims(
  storage: StorageDriver,
  bucket: string,
  jobKey: string,
): Promise<Map<number, CallClaim>> {
  const claimed = new Map<number, CallClaim>();
  const listed = await listObjects(storage, bucket, keys.claimPrefix(jobKey));
  await forEachLimit(listed, FETCH_CONCURRENCY, async (o) => {
    const attempt = parseClaimKey(o.key)?.attempt ?? 1;
    let spec: string;
    try {
      spec = Buffer.from(await storage.get(bucket, o.key)).toString('utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'NO_SUCH_KEY') return;
      throw err;
    }
    let ids: number[];
    try {
      ids = decodeClaim(spec, { bucket, key: o.key });
    } catch (err) {
      if (err instanceof MalformedRecordError) return; // not a claim of ours
      throw err;
    }
    const claim: CallClaim = {
      attempt,
      batch: ids.length,
      ...(o.storedAt !== undefined ? { claimedAt: o.storedAt } : {}),
    };
    for (const id of ids) {
      const prev = claimed.get(id);
      if (!prev || claim.attempt > prev.attempt) claimed.set(id, claim);
    }
  });
  return claimed;
}

interface Listed {
  key: string;
  tag: string;
  storedAt?: number;
}

async function listObjects(storage: StorageDriver, bucket: string, prefix: string): Promise<Listed[]> {
  const out: Listed[] = [];
  for await (const e of storage.list(bucket, prefix)) {
    if (!('key' in e)) continue;
    const storedAt = e.lastModified?.getTime();
    out.push({
      key: e.key,
      tag: e.etag ?? `${e.size}:${storedAt ?? ''}`,
      ...(storedAt !== undefined ? { storedAt } : {}),
    });
  }
  return out;
}

/** Parses a status object (one record) or a status batch (an array of records). */
function parseRecords(
  text: string,
  key: string,
  source: 'status' | 'batch',
  storedAt: number | undefined,
): StoredCallStatus[] {
  let list: unknown[];
  try {
    list = decodeStatusList(text, key);
  } catch {
    return [];
  }
  const out: StoredCallStatus[] = [];
  for (const item of list) {
    const r = toRecord(item, source, storedAt);
    if (r) out.push(r);
  }
  return out;
}

function toRecord(
  item: unknown,
  source: 'status' | 'batch',
  storedAt: number | undefined,
): StoredCallStatus | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const r = item as Record<string, unknown>;
  if (!Number.isInteger(r.callId) || typeof r.ok !== 'boolean') return undefined;
  const record: StoredCallStatus = {
    callId: r.callId as number,
    ok: r.ok,
    attempt: Number.isInteger(r.attempt) ? (r.attempt as number) : 1,
    stats: typeof r.stats === 'object' && r.stats !== null ? (r.stats as Partial<WorkerCallStats>) : {},
    source,
  };
  if (typeof r.error === 'object' && r.error !== null) record.error = r.error as SerializedError;
  if (typeof r.logs === 'string') record.logs = r.logs;
  if (r.outputStored === true) record.outputStored = true;
  const at = typeof r.storedAt === 'number' ? r.storedAt : storedAt;
  if (at !== undefined) record.storedAt = at;
  return record;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
