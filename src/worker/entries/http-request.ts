/**
 * The body of `POST /invoke`, checked before anything is allocated or fetched: a request names only
 * a job inside the worker's own storage (a bucket and a job key under `burst/jobs/`), a call list
 * that is parsed without being expanded, and an attempt. Storage never comes from the request.
 */
import { keys, parseJobKey } from '../../job/layout.js';

/** The body of `POST /invoke`. */
export interface InvokeRequest {
  /** A bucket of the worker's storage. */
  bucket: string;
  /** `burst/jobs/<executorId>/<jobId>`. */
  jobKey: string;
  /** Call ids as a call spec, e.g. `0-9,12`. */
  calls: string;
  /** 1 for a first run; counts retries. */
  attempt: number;
}

/** A call spec as ranges, not yet expanded: `[[0, 9], [12, 12]]`. */
export type CallRanges = [number, number][];

/** A request that passed {@link parseInvokeRequest}. */
export interface ParsedInvoke {
  request: InvokeRequest;
  ranges: CallRanges;
  /** How many calls the ranges name (duplicates counted). */
  count: number;
}

/** A bad request: answered 400 with this message. */
export class BadRequest extends Error {}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SEGMENT = /^[A-Za-z0-9_.-]{1,128}$/;
const MAX_SPEC_CHARS = 64 * 1024;
/** Nine digits: every id and range end fits a safe integer, and no spec names a billion calls. */
const RANGE = /^(\d{1,9})(?:-(\d{1,9}))?$/;
const MAX_ATTEMPT = 1000;

/** Parses and checks a request body; throws {@link BadRequest} naming the field at fault. */
export function parseInvokeRequest(body: Buffer, o: { maxCalls: number; buckets?: readonly string[] }): ParsedInvoke {
  let r: Partial<Record<keyof InvokeRequest | 'storage', unknown>>;
  try {
    r = JSON.parse(body.toString('utf8')) as typeof r;
  } catch {
    throw new BadRequest('the request body is not valid JSON');
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r))
    throw new BadRequest('the request body must be a JSON object');
  if (r.storage !== undefined) {
    throw new BadRequest(
      '"storage" is not accepted: this worker uses its own storage (--storage-config or BURST_STORAGE_CONFIG at deploy time); a request names only a job in it',
    );
  }
  const bucket = r.bucket;
  if (typeof bucket !== 'string' || !BUCKET.test(bucket) || bucket.includes('..'))
    throw new BadRequest(
      `"bucket" must be a bucket name (3-63 lowercase letters, digits, "." and "-"), got ${short(bucket)}`,
    );
  if (o.buckets && !o.buckets.includes(bucket))
    throw new BadRequest(
      `"bucket" ${JSON.stringify(bucket)} is not served by this worker (it serves ${o.buckets.join(', ')})`,
    );
  const jobKey = r.jobKey;
  if (!isJobKey(jobKey))
    throw new BadRequest(
      `"jobKey" must look like "${keys.job('<executorId>', '<jobId>')}" (letters, digits, "_", "." and "-"; no ".."), got ${short(jobKey)}`,
    );
  if (typeof r.calls !== 'string') throw new BadRequest('"calls" must be a call list such as "0-9,12"');
  const attempt = r.attempt;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPT)
    throw new BadRequest(`"attempt" must be a positive integer up to ${MAX_ATTEMPT}, got ${short(attempt)}`);
  const { ranges, count } = parseCallRanges(r.calls, o.maxCalls);
  return { request: { bucket, jobKey, calls: r.calls, attempt }, ranges, count };
}

/** Whether `key` is a job key under Burst's root with two plain segments. */
export function isJobKey(key: unknown): key is string {
  if (typeof key !== 'string') return false;
  const job = parseJobKey(key);
  return (
    job !== undefined &&
    job.jobKey === key &&
    [job.executorId, job.jobId].every((p) => SEGMENT.test(p) && p !== '.' && p !== '..')
  );
}

/** Parses a call spec into ranges, counting (never expanding) them; more than `maxCalls` is refused. */
export function parseCallRanges(spec: string, maxCalls: number): { ranges: CallRanges; count: number } {
  if (spec.length === 0 || spec.length > MAX_SPEC_CHARS)
    throw new BadRequest(`"calls" must be a call list of 1 to ${MAX_SPEC_CHARS} characters`);
  const ranges: CallRanges = [];
  let count = 0;
  for (const part of spec.split(',')) {
    const m = RANGE.exec(part.trim());
    if (!m)
      throw new BadRequest(
        `invalid call list: "${part.slice(0, 40)}" is not a call id or a range like 3-7 (ids have at most 9 digits)`,
      );
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (end < start) throw new BadRequest(`invalid call list: range "${part}" goes backwards`);
    count += end - start + 1;
    if (count > maxCalls)
      throw new BadRequest(`"calls" names more than ${maxCalls} calls, the most this worker runs in one request`);
    ranges.push([start, end]);
  }
  return { ranges, count };
}

/** The call ids of checked ranges, each once; call only after {@link parseCallRanges} bounded them. */
export function expandRanges(ranges: CallRanges): number[] {
  const ids = new Set<number>();
  for (const [start, end] of ranges) for (let id = start; id <= end; id++) ids.add(id);
  return [...ids];
}

/** A value for an error message, cut short: a hostile request may send megabytes. */
function short(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
