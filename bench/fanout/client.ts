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
const results = (await fexec.getResult(futures)) as string[];
const doneAt = Date.now();
const cpu = process.cpuUsage(cpu0);
const bad = results.filter((r) => r.length !== a.resultBytes).length;
const counters = fexec.counters?.() ?? {};
await fexec.close();
console.log(
  JSON.stringify({
    t0,
    mappedAt,
    doneAt,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    bad,
    counters,
  }),
);
