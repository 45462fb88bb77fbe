/**
 * Per-job summaries, their text table, cost estimates, and the SVG plots rendered by Vega in Node,
 * on synthetic calls with known timings (test/stats/fixtures.ts) and on real futures of a real map.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { distribution, summarize } from '../../src/stats/summary.ts';
import { formatBytes, formatDuration, formatSummary } from '../../src/stats/format.ts';
import { estimateCost, registerPrices } from '../../src/stats/cost.ts';
import { plotTimeline, timelineSpec } from '../../src/stats/plot.ts';
import { FunctionExecutor } from '../../src/index.ts';
import { syntheticCalls, T0 } from './fixtures.ts';

describe('summarize', () => {
  it('aggregates each job: states, stage distributions, cold starts, attempts, bytes, hosts', () => {
    const [s, other] = summarize([...syntheticCalls(), ...syntheticCalls('exec-1', 'M001').slice(0, 2)]);
    assert.ok(s && other);
    assert.equal(other.jobId, 'M001');
    assert.equal(s.calls, 7);
    assert.deepEqual(s.states, { new: 0, invoked: 1, running: 1, success: 4, error: 1 });
    // Run times 100, 110, …, 140 ms for the five finished calls, 150 for the running one has no end.
    assert.deepEqual(s.run, { count: 5, min: 100, median: 120, p95: 138, max: 140, mean: 120 });
    assert.deepEqual(s.queue, { count: 6, min: 0, median: 25, p95: 47.5, max: 50, mean: 25 });
    assert.equal(s.result?.median, 5);
    assert.equal(s.wallTime, 185);
    assert.equal(s.coldStarts, 2);
    assert.equal(s.attempts, 7);
    assert.equal(s.retriedCalls, 1);
    assert.equal(s.bytesIn, 60);
    assert.equal(s.bytesOut, 100);
    assert.deepEqual(s.hosts, ['node-a', 'node-b']);
    assert.equal(s.workerProcesses, 6);
    assert.equal(s.cost, undefined);
  });

  it('computes quantiles by interpolating between ranks', () => {
    assert.deepEqual(distribution([5]), { count: 1, min: 5, median: 5, p95: 5, max: 5, mean: 5 });
    assert.equal(distribution([4, 1, 3, 2])?.median, 2.5);
    assert.equal(distribution([]), undefined);
  });

  it('estimates cost from the price table of the backend', () => {
    const calls = syntheticCalls();
    assert.equal(summarize(calls, { backend: 'localhost' })[0]?.cost?.total, 0);
    const lambda = estimateCost(calls, { backend: 'aws_lambda', memoryMB: 2048 });
    assert.ok(lambda);
    // Billed: cold calls 0, 1 from worker start (50 ms earlier), the others from function start.
    const ms = 100 + 50 + (110 + 60) + 120 + 130 + 140;
    assert.equal(lambda.invocations, 7); // 6 calls that started, one of them twice
    assert.ok(Math.abs(lambda.gbSeconds - (ms / 1000) * 2) < 1e-9);
    assert.ok(Math.abs(lambda.total - (lambda.gbSeconds * 0.0000166667 + 7 * 0.0000002)) < 1e-12);
    assert.equal(estimateCost(calls, { backend: 'unknown-engine' }), undefined);
    registerPrices('test-engine', { perGbSecond: 1, perRequest: 0, defaultMemoryMB: 1024, note: 'test' });
    assert.ok(Math.abs((estimateCost(calls, { backend: 'test-engine' })?.total ?? 0) - ms / 1000) < 1e-9);
  });

  it('formats a table per job with the counts, bytes, hosts and cost', () => {
    const text = formatSummary(summarize(syntheticCalls(), { backend: 'aws_lambda' }));
    assert.equal(
      text.split('\n')[0],
      'Job exec-1/M000: 7 calls (4 success, 1 error, 1 running, 1 waiting) in 185 ms on aws_lambda',
    );
    assert.ok(
      text.includes(
        [
          '             min  median     p95     max',
          '  queue     0 ms   25 ms   48 ms   50 ms',
          '  run     100 ms  120 ms  138 ms  140 ms',
          '  result    5 ms    5 ms    5 ms    5 ms',
          '  total   105 ms  145 ms  181 ms  185 ms',
        ].join('\n'),
      ),
      text,
    );
    assert.match(text, /cold starts 2 of 7 · 7 attempts \(1 call retried\) · in 60 B · out 100 B\n/);
    assert.match(text, /ran on 2 hosts \(node-a, node-b\), 6 workers\n/);
    assert.match(text, /estimated cost \$0\.0000\d+ \(AWS Lambda/);
    assert.equal(formatSummary([]), 'no calls yet\n');
    assert.equal(formatDuration(0.25), '0.3 ms');
    assert.equal(formatDuration(1520), '1.52 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatBytes(1536), '1.5 KiB');
  });
});

describe('plots', () => {
  it('renders a timeline, a concurrency chart and a histogram per job as SVG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'burst-plots-'));
    try {
      const files = await plotTimeline([...syntheticCalls(), ...syntheticCalls('exec-2', 'R001')], dir);
      assert.deepEqual(
        files.map((f) => f.slice(dir.length + 1)),
        [
          'exec-1-M000-timeline.svg',
          'exec-1-M000-concurrency.svg',
          'exec-1-M000-histogram.svg',
          'exec-2-R001-timeline.svg',
          'exec-2-R001-concurrency.svg',
          'exec-2-R001-histogram.svg',
        ],
      );
      const timeline = await readFile(files[0] as string, 'utf8');
      assert.match(timeline, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*width="\d+" height="\d+"/);
      assert.match(timeline, /Timeline of calls: job exec-1\/M000/);
      assert.match(timeline, /7 calls, 5 finished, 1 failed/);
      assert.match(timeline, /seconds since the first call was submitted/);
      for (const label of ['waiting (submit → start)', 'running (start → end)', 'failed', 'returning (end → result)'])
        assert.ok(timeline.includes(label), label);
      const concurrency = await readFile(files[1] as string, 'utf8');
      assert.match(concurrency, /Concurrency: job exec-1\/M000/);
      assert.match(concurrency, /in flight \(submitted, no result\)/);
      assert.match(await readFile(files[2] as string, 'utf8'), /run time \(ms, function start → end\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('draws one bar per phase of each call, in seconds from the first submit', () => {
    const spec = timelineSpec(syntheticCalls()) as unknown as { data: { values: Array<Record<string, unknown>> } };
    const rows = spec.data.values;
    const call3 = rows.filter((r) => r.call === 3).map((r) => [r.phase, r.start, r.end]);
    assert.deepEqual(call3, [
      ['waiting', 0, 0.03],
      ['failed', 0.03, 0.16],
      ['returning', 0.16, 0.165],
    ]);
    // A call still waiting extends to the latest time known.
    assert.deepEqual(
      rows.filter((r) => r.call === 6).map((r) => [r.phase, r.start, r.end]),
      [['waiting', 0, 0.185]],
    );
    assert.equal(T0 > 0, true);
  });

  it('plots and summarizes the futures of a real map', async () => {
    const root = await mkdtemp(join(tmpdir(), 'burst-plot-real-'));
    const fexec = new FunctionExecutor({ fs: { root }, workers: 2, progress: false });
    try {
      const futures = await fexec.map((x: number) => x + 1, [1, 2, 3, 4]);
      await fexec.getResult(futures);
      const [s] = summarize(futures, { backend: 'localhost' });
      assert.equal(s?.states.success, 4);
      assert.equal(s?.run?.count, 4);
      assert.equal(s?.cost?.total, 0);
      const files = await plotTimeline(futures, join(root, 'plots'));
      assert.equal(files.length, 3);
      assert.match(await readFile(files[0] as string, 'utf8'), /4 calls, 4 finished/);
    } finally {
      await fexec.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
