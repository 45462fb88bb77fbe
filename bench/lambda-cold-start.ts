/**
 * What the AWS Lambda worker bundle costs at a cold start: the function zip's size, the time a fresh
 * `node` takes to import each entry (index.js the handler, child.js the worker process, api.js the
 * API a function importing burst-compute gets), and, with the Ceph gateway up, the latency of a first
 * map of one call through the local Invoke API emulator (test/backends/lambda-emulator.ts), each trial
 * on a new function, so a new execution environment. Medians and minimums; the machine's load shows.
 *
 *   node --import tsx bench/lambda-cold-start.ts [--trials 5] [--imports 11]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FunctionExecutor } from '../src/index.ts';
import { VERSION } from '../src/version.ts';
import { functionZip } from '../src/runtime/aws-lambda-build.ts';
import { LambdaEmulator } from '../test/backends/lambda-emulator.ts';
import { ensureCeph } from '../test/services.ts';
import { addSeven } from '../test/fixtures/tasks.ts';
import { dynamicImport } from '../test/fixtures/uses-burst.ts';

const { values } = parseArgs({
  options: { trials: { type: 'string', default: '5' }, imports: { type: 'string', default: '11' } },
});
const stats = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${(s[s.length >> 1] ?? NaN).toFixed(0)} ms, min ${(s[0] ?? NaN).toFixed(0)} ms (n=${s.length})`;
};

const dir = await mkdtemp(join(tmpdir(), 'burst-lambda-cold-'));
try {
  const zip = await functionZip(dir);
  console.log(`function zip: ${zip.bytes.length} bytes, ${zip.unzippedBytes} bytes unzipped, ${zip.files} files`);
  for (const entry of ['index.js', 'child.js', 'api.js']) {
    if (!existsSync(join(dir, entry))) {
      console.log(`import ${entry}: not in the bundle`);
      continue;
    }
    const times: number[] = [];
    for (let i = 0; i < Number(values.imports); i++) {
      const script = `const t = performance.now(); await import(${JSON.stringify(join(dir, entry))}); console.log(performance.now() - t); process.exit(0);`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      times.push(Number(out.trim().split('\n').pop()));
    }
    console.log(`import ${entry}: ${stats(times)}`);
  }

  const ceph = await ensureCeph();
  if ('skip' in ceph) {
    console.log(`no emulator run: Ceph RGW unavailable (${ceph.skip})`);
  } else {
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEMULATOR';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'emulator';
    const emu = new LambdaEmulator();
    await emu.start();
    const s3 = {
      endpoint: ceph.endpoint,
      region: ceph.region,
      accessKeyId: ceph.accessKeyId,
      secretAccessKey: ceph.secretAccessKey,
      forcePathStyle: true,
    };
    const v = VERSION.replace(/[^A-Za-z0-9]/g, '_');
    let k = 0;
    try {
      for (const [name, fn] of [
        ['addSeven', addSeven],
        ['dynamicImport (loads api.js)', dynamicImport],
      ] as const) {
        const times: number[] = [];
        for (let t = 0; t < Number(values.trials); t++) {
          const runtime = `cold${k++}`;
          emu.deploy({
            name: `burst-${runtime}-1024mb-${v}`,
            codeDir: dir,
            memoryMB: 1024,
            timeoutS: 60,
            concurrency: 1,
          });
          const fexec = new FunctionExecutor({
            backend: 'aws_lambda',
            storage: 's3',
            s3,
            bucket: 'burst-lambda-coldstart',
            aws_lambda: { endpoint: emu.url, region: 'us-east-1', runtime },
            progress: false,
          });
          try {
            const start = performance.now();
            await fexec.getResult(await fexec.map(fn as typeof addSeven, [1]));
            times.push(performance.now() - start);
          } catch (err) {
            console.log(`${name} fails: ${String((err as Error).message).split('\n')[0]}`);
            break;
          } finally {
            await fexec.close();
          }
        }
        console.log(`first map of one call, new environment, ${name}: ${stats(times)}`);
      }
    } finally {
      await emu.stop();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
