/**
 * When each call of a storage-channel job started, for speculation (./speculate.ts): a worker writes
 * its claim (`claims/<attempt>.<first call>.<nonce>`, job/claims.ts) just before it runs the calls,
 * so the claim's write time is their start. Each claim is read once; later looks only list the prefix,
 * at most once a second.
 */
import { decodeClaim } from '../job/claims.js';
import { MalformedRecordError } from '../errors.js';
import { keys, parseClaimKey } from '../job/layout.js';
import type { StorageDriver } from '../storage/types.js';

const LOOK_EVERY_MS = 1000;

/** A function that resolves to each claimed call's start (epoch ms), by call id; its latest attempt's. */
export function claimStarts(
  storage: StorageDriver,
  bucket: string,
  jobKey: string,
): () => Promise<ReadonlyMap<number, number>> {
  const seen = new Set<string>();
  const starts = new Map<number, { attempt: number; at: number }>();
  let lastLook = 0;
  const view = (): Map<number, number> => new Map([...starts].map(([id, s]) => [id, s.at]));
  return async () => {
    if (Date.now() - lastLook < LOOK_EVERY_MS) return view();
    lastLook = Date.now();
    for await (const e of storage.list(bucket, keys.claimPrefix(jobKey))) {
      if (!('key' in e) || seen.has(e.key)) continue;
      const at = e.lastModified?.getTime();
      const attempt = parseClaimKey(e.key)?.attempt;
      if (at === undefined || attempt === undefined) continue;
      let ids: number[];
      try {
        ids = decodeClaim(await storage.get(bucket, e.key), { bucket, key: e.key });
      } catch (err) {
        // Not a claim of ours: never read again. Anything else (a slow or failed read under load) is
        // read at the next look: a claim skipped for good would hide its calls' starts, and a
        // straggler among them would never get its backup.
        if (err instanceof MalformedRecordError) seen.add(e.key);
        continue;
      }
      seen.add(e.key);
      for (const id of ids) {
        const prev = starts.get(id);
        if (!prev || attempt >= prev.attempt) starts.set(id, { attempt, at });
      }
    }
    return view();
  };
}
