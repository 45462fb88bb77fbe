/**
 * Two-stage pipeline on the storage channel (issue 17): stage one makes a `--bytes` result per input,
 * stage two summarizes each. Chained (`futures.map(summarize)`) against collect-then-map
 * (`getResult()` then `map(summarize, results)`): the bytes the client downloads and uploads, counted
 * by wrapping its (real) storage driver. Writes bench/results/chain-pipeline.json. Never asserts.
 *
 *   npm run build && node --import tsx bench/chain-pipeline.ts [--inputs 1000] [--bytes 81920] [--workers 2] [--chunksize 50]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createStorage, FunctionExecutor, type StorageDriver } from '../dist/index.js';
import { produce, summarize } from './chain-tasks.ts';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000' },
    bytes: { type: 'string', default: '81920' },
    workers: { type: 'string', default: '2' },
    chunksize: { type: 'string', default: '50' },
  },
});
const n = Number(values.inputs);
const bytes = Number(values.bytes);
const here = new URL('.', import.meta.url).pathname;

/** Bytes the client moved, by kind of key. */
interface Traffic {
  outputGets: number;
  outputBytesDown: number;
  statusBytesDown: number;
  dataBytesUp: number;
}

function counting(driver: StorageDriver, t: Traffic): StorageDriver {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'get')
        return async (bucket: string, key: string, o?: unknown) => {
          const b = await (v as StorageDriver['get']).call(target, bucket, key, o as never);
          if (key.includes('/output/')) {
            t.outputGets++;
            t.outputBytesDown += b.length;
          } else if (key.includes('/status')) t.statusBytesDown += b.length;
          return b;
        };
      if (prop === 'put')
        return (bucket: string, key: string, body: Uint8Array, o?: unknown) => {
          if (key.endsWith('/data') && body instanceof Uint8Array) t.dataBytesUp += body.length;
          return (v as StorageDriver['put']).call(target, bucket, key, body, o as never);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function run(mode: 'chained' | 'collect-then-map'): Promise<Traffic & { seconds: number }> {
  const root = await mkdtemp(join(tmpdir(), 'burst-bench-chain-'));
  const t: Traffic = { outputGets: 0, outputBytesDown: 0, statusBytesDown: 0, dataBytesUp: 0 };
  const driver = counting(await createStorage('fs', { root }), t);
  const fexec = new FunctionExecutor({
    storage: driver,
    workers: Number(values.workers),
    localhost: { channel: 'storage' },
    progress: false,
  });
  const inputs = Array.from({ length: n }, (_, i) => i);
  const o = { chunksize: Number(values.chunksize) };
  try {
    const t0 = performance.now();
    const first = await fexec.map(produce, inputs, { ...o, extraArgs: { bytes } });
    const second =
      mode === 'chained' ? await first.map(summarize, o) : await fexec.map(summarize, await first.getResult(), o);
    const out = await second.getResult();
    const seconds = (performance.now() - t0) / 1000;
    if (out[n - 1] !== bytes + ((n - 1) % 251)) throw new Error(`wrong result ${out[n - 1]}`);
    return { ...t, seconds };
  } finally {
    await fexec.close();
    await rm(root, { recursive: true, force: true });
  }
}

const chained = await run('chained');
const collected = await run('collect-then-map');
const report = {
  inputs: n,
  resultBytesPerCall: bytes,
  resultBytesTotal: n * bytes,
  workers: Number(values.workers),
  chunksize: Number(values.chunksize),
  chained,
  collectThenMap: collected,
};
console.log(JSON.stringify(report, null, 2));
await mkdir(`${here}results`, { recursive: true });
await writeFile(`${here}results/chain-pipeline.json`, `${JSON.stringify(report, null, 2)}\n`);
