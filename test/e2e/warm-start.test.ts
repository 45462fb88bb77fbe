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

for (const isolation of ['thread', 'process'] as const)
  test(`workers (${isolation}s) start before packaging ends; the idle pool does not hold the script`, async () => {
    await writeFile(
      join(dir, `main-${isolation}.mjs`),
      [
        "import { readFileSync, readdirSync } from 'node:fs';",
        "import { stat } from 'node:fs/promises';",
        "import { FunctionExecutor } from 'burst-compute';",
        'await stat("/"); // libuv starts its thread pool now, not during the count below',
        'const threads = () => readdirSync("/proc/self/task").length;',
        'const base = threads();',
        `const fexec = new FunctionExecutor({ progress: false, workers: 2, localhost: { isolation: '${isolation}' } });`,
        'function make() { const local = 5; return (x) => x + local; }',
        'try { await fexec.map(make(), [1, 2]); } catch (e) { console.log(JSON.stringify(e.code)); }',
        'const kids = () => readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\\s+/).filter(Boolean).map(Number);',
        `const started = () => ${isolation === 'process' ? 'kids().length' : 'threads() - base'};`,
        'for (let i = 0; i < 100 && started() === 0; i++) await new Promise((r) => setTimeout(r, 50));',
        'console.log(JSON.stringify({ started: started(), kids: kids() }));',
        '// no close(): an idle pool must let this process end',
        '',
      ].join('\n'),
    );
    const r = await exec(process.execPath, [`main-${isolation}.mjs`], { cwd: dir, timeout: 60_000 });
    const [code, seen] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown) as [unknown, { started: number; kids: number[] }];
    assert.equal(code, 'PACKAGING');
    assert.ok(
      seen.started >= 1,
      `no worker ${isolation} was started while the function was packaged: ${JSON.stringify(seen)}`,
    );
    assert.deepEqual(await survivors(seen.kids), [], 'the workers end with the script');
  });
