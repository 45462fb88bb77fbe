/**
 * Issue 15, finding 6: one long call must not hold back short calls while another worker idles. The
 * tests check the schedule itself (which worker ran which call, in which order), never durations:
 * the long call runs far longer than all the short calls together, so in a good schedule the other
 * worker runs every short call, and none waits behind the long one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor } from '../../src/index.ts';
import { markedBusy, markedSleep } from './fixtures/exec-tasks.ts';
import { executions, ISOLATIONS } from './helpers.ts';

const cases = [
  { name: 'async long call (sleep)', fn: markedSleep, chunksize: undefined },
  { name: 'synchronous long call (busy-wait)', fn: markedBusy, chunksize: undefined },
  { name: 'chunksize: 1', fn: markedSleep, chunksize: 1 },
];

for (const c of cases)
  for (const isolation of ISOLATIONS)
    test(`no short call waits behind a long one while the other worker idles: ${c.name} (isolation: ${isolation})`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'burst-sched-'));
      const marker = join(root, 'marker');
      const fexec = new FunctionExecutor({ workers: 2, fs: { root }, localhost: { isolation }, progress: false });
      try {
        await fexec.getResult(await fexec.map(markedSleep, [1, 1], { extraArgs: { marker: join(root, 'warm') } })); // both processes up
        const inputs = [3000, ...Array.from({ length: 24 }, () => 5)];
        const futures = await fexec.map(c.fn, inputs, {
          extraArgs: { marker },
          ...(c.chunksize ? { chunksize: c.chunksize } : {}),
        });
        await futures.getResult();
        // The marker file lists executions in the order they started.
        const order = executions(marker);
        assert.equal(order.length, inputs.length, 'each call ran once');
        const long = order.find((e) => e.callId === 0);
        assert.ok(long);
        const afterLong = order.slice(order.indexOf(long) + 1).filter((e) => e.worker === long.worker);
        assert.deepEqual(
          afterLong.map((e) => e.callId),
          [],
          "short calls started on the long call's worker after it, while the other worker was free",
        );
        assert.equal(
          new Set(order.filter((e) => e.callId !== 0).map((e) => e.worker)).size,
          1,
          'the other worker ran every short call',
        );
      } finally {
        await fexec.close();
        await rm(root, { recursive: true, force: true });
      }
    });

// The tail of a job: calls handed out while fewer are left than workers go to a free worker only. A
// long synchronous call queued behind another long one waits for it to end (it cannot be given back
// while the other runs), so as many long calls last in the inputs as workers each start on a
// different worker.
for (const isolation of ISOLATIONS)
  test(`long calls last in the inputs each start on a worker of their own (isolation: ${isolation})`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-sched-'));
    const marker = join(root, 'marker');
    const workers = 4;
    const fexec = new FunctionExecutor({ workers, fs: { root }, localhost: { isolation }, progress: false });
    try {
      const warm = Array.from({ length: workers }, () => 1);
      await fexec.getResult(await fexec.map(markedSleep, warm, { extraArgs: { marker: join(root, 'warm') } }));
      const shorts = 40;
      const inputs = [...Array.from({ length: shorts }, () => 10), ...Array.from({ length: workers }, () => 1000)];
      // A few rounds: without the tail rule the race happened in some rounds, not in every one.
      for (let round = 0; round < 4; round++) {
        const roundMarker = `${marker}-${round}`;
        await (await fexec.map(markedBusy, inputs, { extraArgs: { marker: roundMarker } })).getResult();
        const order = executions(roundMarker);
        assert.equal(order.length, inputs.length, 'each call ran once');
        const longs = order.filter((e) => e.callId >= shorts);
        assert.equal(
          new Set(longs.map((e) => e.worker)).size,
          workers,
          `round ${round}: long calls started one after another on one worker: ${JSON.stringify(longs)}`,
        );
      }
    } finally {
      await fexec.close();
      await rm(root, { recursive: true, force: true });
    }
  });
