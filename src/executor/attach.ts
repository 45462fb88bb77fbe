/**
 * Attaching to an executor's jobs from another process (after the first client died): every call
 * whose status is in storage settles its future from there (results are read, never recomputed);
 * calls without a status stay pending and are watched, in case their workers are still running.
 */
import { BurstError } from '../errors.js';
import type { JobDescriptor } from '../backends/types.js';
import { decode } from '../serialize/index.js';
import { toBurstError } from '../serialize/errors.js';
import { isPrefixEntry } from '../storage/types.js';
import { readJobStatuses } from '../stats/job-reader.js';
import { keys, type JobManifest } from '../worker/job-layout.js';
import { Future } from './future.js';
import { reviveResult } from './stored-result.js';
import type { Runtime } from './runtime.js';

/** The futures of one stored job. */
export interface AttachedJob {
  manifest: JobManifest;
  futures: Future<unknown>[];
}

/** Finds the executor's jobs in storage and builds their futures, settling those that finished. */
export async function attachJobs(runtime: Runtime, executorId: string): Promise<AttachedJob[]> {
  const { storage, monitor, backend } = await runtime.ready();
  const bucket = runtime.options.bucket;
  const jobs: AttachedJob[] = [];
  for await (const entry of storage.list(bucket, keys.executor(executorId), { delimiter: '/' })) {
    if (!isPrefixEntry(entry)) continue;
    const jobKey = entry.prefix.replace(/\/$/, '');
    let manifest: JobManifest;
    try {
      manifest = JSON.parse(Buffer.from(await storage.get(bucket, keys.manifest(jobKey))).toString('utf8')) as JobManifest;
    } catch {
      continue; // a job whose manifest was never written or was cleaned
    }
    const futures = Array.from({ length: manifest.callCount }, (_, i) => new Future<unknown>(executorId, manifest.jobId, i));
    const context = { jobId: manifest.jobId, executorId, backend: backend.name };
    if (manifest.channel === 'ipc') {
      // Results of IPC jobs lived only in the client that ran them: say so for each finished call.
      for (const s of await readJobStatuses(storage, bucket, jobKey)) {
        const f = futures[s.callId];
        if (!f) continue;
        f._reject(s.ok
          ? new BurstError('RESULT_NOT_STORED', `call ${s.callId} of job ${manifest.jobId} succeeded, but it ran over the localhost IPC channel, whose results stay in the client that ran it; use localhost: { channel: 'storage' } or a remote backend to keep results in storage`, { ...context, callId: String(s.callId) })
          : toBurstError(s.error ?? { kind: 'crash', name: 'Error', message: 'failed' }, { ...context, callId: String(s.callId) }), s.logs);
      }
    } else {
      const job: JobDescriptor = { executorId, jobId: manifest.jobId, bucket, jobKey, storage: storage.config, callCount: manifest.callCount, chunksize: 1, timeoutSeconds: manifest.timeoutSeconds, env: manifest.env };
      monitor.expect(job, futures.map((_, i) => i), 1, (record) => {
        const f = futures[record.callId];
        if (!f) return;
        Object.assign(f.stats, { fnStart: record.stats.fnStart, fnEnd: record.stats.fnEnd, workerStart: record.stats.workerStart, attempt: record.attempt, hostname: record.stats.hostname, pid: record.stats.pid, ...(record.stats.location ? { location: record.stats.location } : {}) });
        if (!record.ok) return f._reject(toBurstError(record.error ?? { kind: 'crash', name: 'Error', message: 'failed' }, { ...context, callId: String(record.callId) }), record.logs);
        try {
          const value = decode(record.output ?? new Uint8Array(0), `result of call ${record.callId}`);
          f._resolve(reviveResult(value, storage, { ...context, callId: String(record.callId), attempt: record.attempt }), record.logs);
        } catch (err) {
          f._reject(err as BurstError);
        }
      });
    }
    jobs.push({ manifest, futures });
  }
  jobs.sort((a, b) => a.manifest.createdAt - b.manifest.createdAt);
  return jobs;
}
