/**
 * examples/replica-exchange: the pull moves keep a chain self-avoiding, and the example at its small
 * size (hp36, 4 replicas, 10 rounds), run as a user runs it, folds the protein deterministically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Chain, pullMove, rng, simulate, straightChain } from '../../examples/replica-exchange/hp.js';
import { exchange, ladder, type Slot } from '../../examples/replica-exchange/exchange.js';
import { runExample, withTempDir } from './helpers.js';

const HP36 = 'PPPHHPPHHPPPPPHHHHHHHPPHHPPPPHHPPHPP';

test('replica-exchange: 100,000 pull moves leave a valid self-avoiding chain', () => {
  const chain = new Chain(HP36, straightChain(HP36.length));
  const rand = rng([3]);
  let moved = 0;
  for (let s = 0; s < 100_000; s++) {
    const moves = pullMove(chain, Math.floor(rand() * chain.n), rand() < 0.5 ? 1 : -1, rand());
    if (!moves) continue;
    chain.place(moves);
    moved++;
    // The Chain constructor rejects overlaps and broken bonds.
    if (s % 500 === 0) assert.doesNotThrow(() => new Chain(HP36, chain.coords()));
  }
  assert.doesNotThrow(() => new Chain(HP36, chain.coords()));
  assert.ok(moved > 10_000, `only ${moved} moves were possible`);
});

test('replica-exchange: energy counts H-H contacts; a call is a pure function of its seed', () => {
  // A 2×2 square of H: one contact (0-3) that is not a bond.
  assert.equal(new Chain('HHHH', Int32Array.from([0, 0, 1, 0, 1, 1, 0, 1])).energy(), -1);
  assert.equal(new Chain('HPPH', Int32Array.from([0, 0, 1, 0, 1, 1, 0, 1])).energy(), -1);
  assert.equal(new Chain('HPHP', Int32Array.from([0, 0, 1, 0, 1, 1, 0, 1])).energy(), 0);
  const task = { sequence: HP36, coords: straightChain(36), temperature: 0.3, sweeps: 50, seed: [1, 2, 3] };
  assert.deepEqual(simulate(task), simulate(task));
  assert.notDeepEqual(simulate(task).coords, simulate({ ...task, seed: [1, 2, 4] }).coords);
});

test('replica-exchange: a swap that moves the lower energy to the colder temperature is always accepted', () => {
  const temps = ladder(0.25, 1, 2);
  const slot = (energy: number, replica: number): Slot => ({ coords: new Int32Array(0), energy, replica });
  const slots = [slot(-3, 0), slot(-8, 1)];
  const counts = { attempted: [], accepted: [] };
  assert.equal(
    exchange(slots, temps, 0, () => 0.999999, counts),
    1,
  );
  assert.deepEqual(
    slots.map((s) => s.replica),
    [1, 0],
  );
  assert.deepEqual(counts, { attempted: [1], accepted: [1] });
});

/** The output without its last line (the time taken). */
const withoutTime = (stdout: string): string =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('time '))
    .join('\n');

test('replica-exchange --small: the energy falls, the run is the same on 1 and 2 workers and with --queue', async () => {
  await withTempDir(async (dir) => {
    const one = await runExample('replica-exchange', ['--small', '--workers', '1'], join(dir, 'a'));
    const two = await runExample('replica-exchange', ['--small', '--workers', '2'], join(dir, 'b'));
    assert.equal(withoutTime(two.stdout), withoutTime(one.stdout));
    // The queue version (long-running calls exchanging through ctx.primitives queues): same table.
    const queued = await runExample('replica-exchange', ['--small', '--queue'], join(dir, 'c'));
    assert.equal(withoutTime(queued.stdout), withoutTime(one.stdout));
    assert.match(queued.stdout, /^time [\d.]+ s: 4 long-running calls of 10 rounds/m);
    const out = one.stdout;
    assert.match(out, /hp36 \(36 residues, lowest energy known -14\)/);
    assert.match(out, /^time [\d.]+ s: 10 maps of 4 calls/m);

    // The table: round 0 (unfolded, energy 0) then 10 rounds whose best energy never rises.
    const rows = out.split('\n').filter((l) => /^\s+\d+\s+-?\d+\s/.test(l) && !l.includes('↔'));
    assert.equal(rows.length, 11, out);
    const best = rows.map((r) => Number(r.trim().split(/\s+/)[1]));
    assert.equal(best[0], 0);
    for (let i = 1; i < best.length; i++) assert.ok(best[i]! <= best[i - 1]!, `best energy rose in round ${i}`);
    assert.ok(best[best.length - 1]! <= -10, `the chain barely folded: ${best.join(' ')}`);

    // Swap rates for the 3 neighbouring pairs, and a drawing whose contacts match the energy.
    assert.equal(out.match(/^ {2}T [\d.]+ ↔ [\d.]+ +\d+\/ +\d+ +\d+%$/gm)?.length, 3, out);
    const lowest = Number(/lowest energy found: (-\d+)/.exec(out)?.[1]);
    const drawing = out.slice(out.indexOf('lowest energy found'), out.indexOf('\ntime '));
    assert.equal(drawing.match(/·/g)?.length, -lowest, drawing);
    assert.equal(drawing.match(/[HPhp]/g)?.length, 36, drawing);
  });
});
