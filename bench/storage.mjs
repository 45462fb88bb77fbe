#!/usr/bin/env node
// Storage benchmark on the Ceph RADOS Gateway: Burst's s3 driver against curl on the same gateway.
//
//   node bench/storage.mjs [--mib 1024] [--trials 3] [--dist]
//
// Rows (each the median of interleaved trials, MB = 10^6 bytes):
//   put         1 GiB multipart PUT from a file          vs  curl -T file (one signed PUT)
//   getMemory   1 GiB get() into memory                  vs  curl -o /dev/shm/... (also RAM)
//   getFile     1 GiB download to a file (burst storage get's code) vs curl -o file (same folder)
//   getSink     1 GiB getStream(), discarded             vs  curl -o /dev/null
// Every Burst read is split into parallel ranged GETs of downloadPartSize.
// Writes the JSON to bench/results/storage.json and prints it.
//
// The gateway comes from BURST_BENCH_S3_ENDPOINT / _ACCESS_KEY / _SECRET_KEY / _REGION, else from
// scripts/services/ceph.sh (started if needed). Runs the sources through tsx, or dist/ with --dist.
import { execFile, execFileSync } from 'node:child_process';
import { randomFillSync, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  writeSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '1024' },
    trials: { type: 'string', default: '3' },
    dist: { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;
const size = Number(args.mib) * MiB;
const trials = Number(args.trials);

/** The storage layer from dist/ with --dist (after `npm run build`), else from the sources through tsx. */
async function loadBurst() {
  if (args.dist) {
    if (!existsSync(join(root, 'dist/storage/index.js'))) throw new Error('no dist/: run npm run build first');
    return {
      ...(await import(join(root, 'dist/storage/index.js'))),
      ...(await import(join(root, 'dist/storage/local-transfer.js'))),
    };
  }
  const { register } = await import('tsx/esm/api');
  register();
  return {
    ...(await import(join(root, 'src/storage/index.ts'))),
    ...(await import(join(root, 'src/storage/local-transfer.ts'))),
  };
}

function gateway() {
  const e = process.env;
  if (e.BURST_BENCH_S3_ENDPOINT) {
    return {
      endpoint: e.BURST_BENCH_S3_ENDPOINT,
      accessKeyId: e.BURST_BENCH_S3_ACCESS_KEY,
      secretAccessKey: e.BURST_BENCH_S3_SECRET_KEY,
      region: e.BURST_BENCH_S3_REGION ?? 'us-east-1',
    };
  }
  const script = join(root, 'scripts/services/ceph.sh');
  execFileSync('bash', [script, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const vars = Object.fromEntries(
    execFileSync('bash', [script, 'env'])
      .toString()
      .split('\n')
      .map((l) => /^export (\w+)=(.*)$/.exec(l.trim()))
      .filter(Boolean)
      .map((m) => [m[1], m[2].replace(/^'(.*)'$/, '$1')]),
  );
  return {
    endpoint: vars.BURST_TEST_S3_ENDPOINT,
    accessKeyId: vars.BURST_TEST_S3_ACCESS_KEY,
    secretAccessKey: vars.BURST_TEST_S3_SECRET_KEY,
    region: vars.BURST_TEST_S3_REGION,
  };
}

/** Runs curl signed with SigV4 (credentials passed by argument, never printed); returns seconds. */
function curl(gw, extra) {
  return new Promise((resolve, reject) => {
    const a = [
      '-sS',
      '--fail',
      '--aws-sigv4',
      `aws:amz:${gw.region}:s3`,
      '--user',
      `${gw.accessKeyId}:${gw.secretAccessKey}`,
      '-H',
      'x-amz-content-sha256: UNSIGNED-PAYLOAD',
      '-w',
      '%{time_total}',
      ...extra,
    ];
    execFile('curl', a, { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`curl failed: ${stderr}`)) : resolve(Number(stdout.trim())),
    );
  });
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Measures once, again after a failure (a shared test gateway may drop a transfer); counts the failures. */
const failures = [];
async function measure(what, fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      failures.push(`${what}: ${err.message.trim()}`);
      if (attempt === 2) throw err;
    }
  }
}

function makeSource(path) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(8 * MiB);
  for (let done = 0; done < size; done += chunk.length)
    writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, size - done));
  closeSync(fd);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mbps = (seconds) => Math.round(size / 1e6 / seconds);

async function main() {
  const loadAtStart = loadavg().map((l) => Math.round(l * 10) / 10);
  const burst = await loadBurst();
  const gw = gateway();
  // The driver's defaults, except that payloads go unsigned as curl's do (see the s3 option signPayload).
  const driver = burst.s3({
    endpoint: gw.endpoint,
    accessKeyId: gw.accessKeyId,
    secretAccessKey: gw.secretAccessKey,
    region: gw.region,
    signPayload: false,
  });
  const o = driver.config.options;
  const settings = {
    partSize: o.partSize,
    uploadConcurrency: o.uploadConcurrency,
    downloadPartSize: o.downloadPartSize,
    downloadConcurrency: o.downloadConcurrency,
    signPayload: o.signPayload,
  };
  const bucket = `burst-bench-${randomBytes(4).toString('hex')}`;
  const url = (key) => `${gw.endpoint}/${bucket}/${key}`;
  const work = join(tmpdir(), `burst-bench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const source = join('/dev/shm', `burst-bench-src-${process.pid}`);
  makeSource(source);
  const times = {
    put: { curl: [], burst: [] },
    getMemory: { curl: [], burst: [] },
    getFile: { curl: [], burst: [] },
    getSink: { curl: [], burst: [] },
  };
  await driver.createBucket(bucket);
  try {
    for (let t = 0; t < trials; t++) {
      // Alternate who goes first, so that neither always runs on a warmer (or busier) gateway.
      const order = t % 2 === 0 ? ['curl', 'burst'] : ['burst', 'curl'];
      for (const who of order) {
        times.put[who].push(
          await measure(`put ${who}`, async () =>
            who === 'curl'
              ? await curl(gw, ['-T', source, url('curl-put'), '-o', '/dev/null'])
              : await timed(() => driver.put(bucket, 'burst-put', createReadStream(source, { highWaterMark: MiB }))),
          ),
        );
      }
      for (const who of order) {
        const shm = join('/dev/shm', `burst-bench-get-${process.pid}`);
        try {
          times.getMemory[who].push(
            await measure(`getMemory ${who}`, async () =>
              who === 'curl'
                ? await curl(gw, [url('curl-put'), '-o', shm])
                : await timed(async () => {
                    const bytes = await driver.get(bucket, 'burst-put');
                    if (bytes.byteLength !== size) throw new Error(`got ${bytes.byteLength} bytes`);
                  }),
            ),
          );
        } finally {
          rmSync(shm, { force: true }); // RAM: never leave it behind
        }
      }
      for (const who of order) {
        const file = join(work, `${who}.bin`);
        times.getFile[who].push(
          await measure(`getFile ${who}`, async () =>
            who === 'curl'
              ? await curl(gw, [url('curl-put'), '-o', file])
              : await timed(() => burst.downloadFile(driver, bucket, { key: 'burst-put', path: file, size })),
          ),
        );
        if (statSync(file).size !== size) throw new Error(`${who} wrote a file of the wrong size`);
        rmSync(file);
      }
      for (const who of order) {
        times.getSink[who].push(
          await measure(`getSink ${who}`, async () =>
            who === 'curl'
              ? await curl(gw, [url('curl-put'), '-o', '/dev/null'])
              : await timed(() => sinkStream(driver, bucket, 'burst-put')),
          ),
        );
      }
      process.stderr.write(`trial ${t + 1}/${trials} done\n`);
    }
  } finally {
    await driver.delete(bucket, ['curl-put', 'burst-put']).catch(() => undefined);
    await driver.deleteBucket(bucket).catch(() => undefined);
    await driver.close();
    rmSync(source, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
  const rows = {};
  for (const [name, t] of Object.entries(times)) {
    const curlMBps = mbps(median(t.curl));
    const burstMBps = mbps(median(t.burst));
    rows[name] = {
      burstMBps,
      curlMBps,
      ratio: Math.round((burstMBps / curlMBps) * 100) / 100,
      burstRuns: t.burst.map(mbps),
      curlRuns: t.curl.map(mbps),
    };
  }
  const result = {
    date: new Date().toISOString(),
    objectBytes: size,
    trials,
    gateway: 'Ceph RGW (memstore OSD) on loopback',
    machine: {
      cpus: cpus().length,
      loadAverage: { start: loadAtStart, end: loadavg().map((l) => Math.round(l * 10) / 10) },
      node: process.version,
      curl: execFileSync('curl', ['--version']).toString().split('\n')[0],
    },
    settings,
    failedAttempts: failures,
    ...rows,
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/storage.json'), text);
  process.stdout.write(text);
}

/** A whole object read with getStream (parallel ranged reads inside) and discarded, as curl -o /dev/null. */
async function sinkStream(driver, bucket, key) {
  let total = 0;
  for await (const chunk of await driver.getStream(bucket, key)) total += chunk.length;
  if (total !== size) throw new Error(`read ${total} bytes`);
}

main().catch((err) => {
  process.stderr.write(`bench/storage: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
