/**
 * Localhost workers start while the function is packaged (issue 16), and such an early pool is idle
 * until calls arrive, so it never keeps a script alive. Evidence without timing: a map whose
 * packaging fails (a captured local variable) still leaves forked worker processes behind, which only
 * the early start can have made, and the script, without `close()`, exits and takes them along.
 * Runs the built package (dist/, `npm run build` first) from a consumer folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { survivors } from '../package/consumer.ts';
import { linkedConsumer } from '../fixtures/linked-consumer.ts';

const exec = promisify(execFile);
let dir: string;

before(async () => {
  dir = await linkedConsumer('warm-start');
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('workers are forked before packaging ends; the idle pool does not hold the script', async () => {
  await writeFile(
    join(dir, 'main.mjs'),
    [
      "import { readFileSync } from 'node:fs';",
      "import { FunctionExecutor } from 'burst-compute';",
      'const fexec = new FunctionExecutor({ progress: false, workers: 2 });',
      'function make() { const local = 5; return (x) => x + local; }',
      'try { await fexec.map(make(), [1, 2]); } catch (e) { console.log(JSON.stringify(e.code)); }',
      'const kids = () => readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\\s+/).filter(Boolean).map(Number);',
      'for (let i = 0; i < 100 && kids().length === 0; i++) await new Promise((r) => setTimeout(r, 50));',
      'console.log(JSON.stringify(kids()));',
      '// no close(): an idle pool must let this process end',
      '',
    ].join('\n'),
  );
  const r = await exec(process.execPath, ['main.mjs'], { cwd: dir, timeout: 60_000 });
  const [code, kids] = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  assert.equal(code, 'PACKAGING');
  assert.ok(
    Array.isArray(kids) && kids.length >= 1,
    `worker processes were started despite the packaging failure, got ${JSON.stringify(kids)}`,
  );
  assert.deepEqual(await survivors(kids as number[]), [], 'the workers exit with the script');
});
