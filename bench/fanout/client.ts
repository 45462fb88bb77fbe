/**
 * One scenario of the fan-out model, as a user runs it: the real Burst client (FunctionExecutor, the
 * aws_lambda backend and the s3 driver) against the modelled platform. Prints one JSON line: when
 * map() returned, when every result was in, the process's CPU and peak RSS, and the backend's counters.
 * Arguments: one JSON object { s3, lambda, bucket, calls, workMs, resultBytes }.
 */
import { FunctionExecutor } from '../../src/index.ts';
import { modelTask } from './task.ts';

interface Args {
  s3: string;
  lambda: string;
  bucket: string;
  calls: number;
  workMs: number;
  resultBytes: number;
}

const a = JSON.parse(process.argv[2] ?? '{}') as Args;
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDFANOUTMODEL';
process.env.AWS_SECRET_ACCESS_KEY ??= 'fanout-model';
const fexec = new FunctionExecutor({
  backend: 'aws_lambda',
  storage: 's3',
  s3: { endpoint: a.s3, region: 'us-east-1', accessKeyId: 'model', secretAccessKey: 'model', forcePathStyle: true },
  bucket: a.bucket,
  aws_lambda: { endpoint: a.lambda, region: 'us-east-1' },
  progress: false,
});
const inputs = Array.from({ length: a.calls }, () => ({ workMs: a.workMs, resultBytes: a.resultBytes }));
const cpu0 = process.cpuUsage();
const t0 = Date.now();
const futures = await fexec.map(modelTask, inputs);
const mappedAt = Date.now();
const mapCpu = process.cpuUsage(cpu0);
const results = (await fexec.getResult(futures)) as string[];
const doneAt = Date.now();
const cpu = process.cpuUsage(cpu0);
const bad = results.filter((r) => r.length !== a.resultBytes).length;
const counters = fexec.counters?.() ?? {};
// How long a written status waited until the client had it: what polling costs in latency.
const lags = Array.from(futures, (f) => (f.stats.resultReceived ?? 0) - (f.stats.stored ?? f.stats.fnEnd ?? 0)).sort(
  (x, y) => x - y,
);
const q = (p: number): number => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? 0;
const lastStored = Math.max(...Array.from(futures, (f) => f.stats.stored ?? f.stats.fnEnd ?? 0));
await fexec.close();
console.log(
  JSON.stringify({
    t0,
    mappedAt,
    doneAt,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mapCpuMs: (mapCpu.user + mapCpu.system) / 1000,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    bad,
    counters,
    collectLagMs: { p50: q(0.5), p90: q(0.9), max: q(1) },
    lastStoredAt: lastStored,
  }),
);
