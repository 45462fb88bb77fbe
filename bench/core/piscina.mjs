// Baseline: a bare worker-thread pool, one thread per core, loading the plain kernel file (no tsx).
import './timeline-hook.mjs';
import { Piscina } from 'piscina';
import { inputs, kernelFile, kernelName, report, threads } from './common.mjs';

const pool = new Piscina({ filename: kernelFile, name: kernelName, minThreads: threads, maxThreads: threads });
try {
  report(await Promise.all(inputs().map((x) => pool.run(x))));
} finally {
  await pool.destroy();
}
