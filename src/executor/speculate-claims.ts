/**
 * What storage tells speculation (./speculate.ts) about a storage-channel job's calls: the workers'
 * claims (`claims/<attempt>.<first call>.<nonce>`, job/claims.ts), from which ./speculate-starts.ts
 * works out which calls run and since when, and whether a copy has written its status, that is ended,
 * before the client has read it. Each claim is read once; later looks only list the prefix, at most
 * once a second.
 */
import { decodeClaim } from '../job/claims.js';
import { MalformedRecordError } from '../errors.js';
import { keys, parseClaimKey } from '../job/layout.js';
import type { StorageDriver } from '../storage/types.js';
import type { ClaimedCalls } from './speculate-starts.js';

const LOOK_EVERY_MS = 1000;

/** A function that resolves to the job's claims read so far, each the same object at every look. */
export function storedClaims(
  storage: StorageDriver,
  bucket: string,
  jobKey: string,
): () => Promise<readonly ClaimedCalls[]> {
  const seen = new Set<string>();
  const claims: ClaimedCalls[] = [];
  let lastLook = 0;
  return async () => {
    if (Date.now() - lastLook < LOOK_EVERY_MS) return claims;
    lastLook = Date.now();
    for await (const e of storage.list(bucket, keys.claimPrefix(jobKey))) {
      if (!('key' in e) || seen.has(e.key)) continue;
      const at = e.lastModified?.getTime();
      const attempt = parseClaimKey(e.key)?.attempt;
      if (at === undefined || attempt === undefined) continue;
      let callIds: number[];
      try {
        callIds = decodeClaim(await storage.get(bucket, e.key), { bucket, key: e.key });
      } catch (err) {
        // Not a claim of ours: never read again. Anything else (a slow or failed read under load) is
        // read at the next look: a claim skipped for good would hide its calls' starts, and a
        // straggler among them would never get its backup.
        if (err instanceof MalformedRecordError) seen.add(e.key);
        continue;
      }
      seen.add(e.key);
      claims.push({ attempt, at, callIds });
    }
    return claims;
  };
}

/** A function that resolves to whether copy `attempt` of a call has written its status. */
export function storedEnd(
  storage: StorageDriver,
  bucket: string,
  jobKey: string,
): (callId: number, attempt: number) => Promise<boolean> {
  return (callId, attempt) => storage.exists(bucket, keys.status(jobKey, callId, attempt));
}
