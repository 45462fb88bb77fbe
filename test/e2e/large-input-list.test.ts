/**
 * A map over a list too long to spread into one function call (V8 overflows its stack somewhere past
 * ~100,000 arguments): 300,000 trivial inputs, each result checked. A `Math.min(...futures)` in the
 * submission once made every map of 10^6 inputs fail with `RangeError: Maximum call stack size
 * exceeded`. Runs the built package (dist/, `npm run build` first) as a separate process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { linkedConsumer } from '../fixtures/linked-consumer.ts';

const exec = promisify(execFile);
let dir: string;

before(async () => {
  dir = await linkedConsumer('large-list');
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a map over 300,000 inputs submits and returns every result', { timeout: 180_000 }, async () => {
  await writeFile(
    join(dir, 'main.mjs'),
    [
      "import { FunctionExecutor } from 'burst-compute';",
      'export const addSeven = (x) => x + 7;',
      'const n = 300_000;',
      'const fexec = new FunctionExecutor({ progress: false, workers: 2 });',
      'const results = await fexec.getResult(await fexec.map(addSeven, Array.from({ length: n }, (_, i) => i)));',
      'let wrong = 0;',
      'for (let i = 0; i < n; i++) if (results[i] !== i + 7) wrong++;',
      'console.log(JSON.stringify({ length: results.length, wrong }));',
      'await fexec.close();',
    ].join('\n'),
  );
  const { stdout } = await exec(process.execPath, ['main.mjs'], { cwd: dir, maxBuffer: 1 << 20 });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop() as string), { length: 300_000, wrong: 0 });
});
