/**
 * examples/monte-carlo at its small size (2,000 forecasts on 20 calls), run as a user runs it: the
 * numbers are right for geometric Brownian motion, the same seed prints the same numbers whatever the
 * number of workers, and the SVG histogram is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureSlurm } from '../services.js';
import { forecastNumbers, runExample, withTempDir } from './helpers.js';

/** The value of one row of the percentile table, as numbers: [mid-horizon, final]. */
function row(stdout: string, name: string): number[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no ${name} row in:\n${stdout}`);
  return line.trim().split(/\s+/).slice(1).map(Number);
}

test('monte-carlo: the same seed gives the same numbers on 1 and 2 workers, and they fit GBM', async () => {
  await withTempDir(async (dir) => {
    const svg = join(dir, 'h.svg');
    const one = await runExample('monte-carlo', ['--small', '--workers', '1', '--svg', svg], join(dir, 'a'));
    const two = await runExample('monte-carlo', ['--small', '--workers', '2', '--svg', svg], join(dir, 'b'));
    assert.match(one.stdout, /2,000 forecasts × 1,080 trading days on 20 calls, seed 1/);
    assert.equal(forecastNumbers(two.stdout), forecastNumbers(one.stdout));
    assert.match(one.stdout, /time [\d.]+ s: 20 calls, [\d.]+ calls\/s/);
    assert.match(one.stdout, /on 1 worker process$/m);

    // GBM from 100 with drift 5% and volatility 20% over 1080/252 years: the mean price is
    // 100·e^(0.05·t) ≈ 123.9, the median 100·e^((0.05 − 0.02)·t) ≈ 113.7 (loose bounds: 2,000 paths).
    const [, meanFinal] = row(one.stdout, 'mean');
    const [medMid, medFinal] = row(one.stdout, 'p50');
    assert.ok(Math.abs((meanFinal as number) - 123.9) < 5, `mean final price ${meanFinal}`);
    assert.ok(Math.abs((medFinal as number) - 113.7) < 6, `median final price ${medFinal}`);
    assert.ok((medMid as number) < (medFinal as number));

    const text = await readFile(svg, 'utf8');
    assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(text.match(/<rect x=/g)?.length, 2 * 24, 'two panels of 24 bars');
  });
});

test('monte-carlo: another seed gives other numbers', async () => {
  await withTempDir(async (dir) => {
    const a = await runExample('monte-carlo', ['--small', '--seed', '7', '--svg', join(dir, 'a.svg')], dir);
    const b = await runExample('monte-carlo', ['--small', '--seed', '8', '--svg', join(dir, 'b.svg')], dir);
    assert.notEqual(forecastNumbers(a.stdout), forecastNumbers(b.stdout));
  });
});

const slurm = await ensureSlurm();

test('monte-carlo: the same seed gives the same numbers on the Slurm cluster', {
  skip: 'skip' in slurm ? slurm.skip : undefined,
}, async () => {
  if ('skip' in slurm) return;
  // The nodes share this machine's filesystem: an fs store on /var/tmp, marked shared, reaches them.
  const shared = await mkdtemp('/var/tmp/burst-example-mc-');
  try {
    const config = join(shared, 'burst.config.json');
    await writeFile(
      config,
      JSON.stringify({ fs: { root: join(shared, 'storage'), shared: true }, slurm: { partition: slurm.partition } }),
    );
    const local = await runExample('monte-carlo', ['--small', '--svg', join(shared, 'a.svg')], join(shared, 'local'));
    const cluster = await runExample(
      'monte-carlo',
      ['--small', '--backend', 'slurm', '--config', config, '--svg', join(shared, 'b.svg')],
      join(shared, 'unused'),
      180_000,
    );
    assert.equal(forecastNumbers(cluster.stdout), forecastNumbers(local.stdout));
  } finally {
    await rm(shared, { recursive: true, force: true });
  }
});
