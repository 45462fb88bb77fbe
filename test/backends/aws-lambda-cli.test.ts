/**
 * What the CLI and the stats make of calls that ran on AWS Lambda (status records written by hand, as
 * the Lambda worker writes them): `burst logs` points at each call's CloudWatch log, the cost
 * estimate bills per invocation, and `burst clean --runtimes` on a backend without runtimes says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { estimateCost } from '../../src/stats/cost.ts';
import type { CallLike } from '../../src/stats/types.ts';
import { lambdaLocation, parseLambdaLocation } from '../../src/backends/aws_lambda/worker/event.ts';
import {
  burst,
  ok,
  sandbox,
  sandboxStorage,
  statusRecord,
  writeManifest,
  writeStatuses,
  type Sandbox,
} from '../cli/helpers.ts';

const where = (requestId: string) => ({
  logGroup: '/aws/lambda/burst-default-1024mb-0_1_0',
  logStream: '2026/01/02/[$LATEST]0123456789abcdef0123456789abcdef',
  requestId,
});

describe('aws_lambda calls in the CLI and stats', () => {
  let box: Sandbox;
  before(async () => {
    box = sandbox();
    const storage = await sandboxStorage(box);
    const jobKey = await writeManifest(storage, 'lam', 'M000', 2);
    const t0 = Date.now();
    const records = [statusRecord(0, t0, { logs: 'hello from lambda\n' }), statusRecord(1, t0, { fail: 'boom' })];
    for (const [i, r] of records.entries())
      Object.assign(r.stats as object, {
        hostname: where(`req-${i}`).logStream,
        location: lambdaLocation(where(`req-${i}`), 'eu-west-1'),
      });
    await writeStatuses(storage, jobKey, records);
    await storage.close?.();
  });
  after(() => box.cleanup());

  it('the log location survives the stats record', () => {
    assert.deepEqual(parseLambdaLocation(lambdaLocation(where('r1'))), where('r1'));
    assert.equal(parseLambdaLocation({ platform: 'slurm', text: 'node-a' }), undefined);
    assert.equal(parseLambdaLocation(undefined), undefined);
  });

  it('burst logs names the CloudWatch log group, stream and request of each call', async () => {
    const r = ok(await burst(['logs', 'lam/M000'], box, { env: { AWS_REGION: 'eu-west-1' } }));
    assert.match(
      r.stdout,
      /── call 0 · succeeded · attempt 1 · 2026\/01\/02\/\[\$LATEST\]0123456789abcdef0123456789abcdef pid [^\n]* ──\n\(logs: CloudWatch log group \/aws\/lambda\/burst-default-1024mb-0_1_0, stream 2026\/01\/02\/\[\$LATEST\]0123456789abcdef0123456789abcdef, request req-0 \(https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:log-groups\/log-group\/\$252Faws\$252Flambda\$252Fburst-default-1024mb-0_1_0\/log-events\/.*\); or: aws logs filter-log-events --log-group-name '\/aws\/lambda\/burst-default-1024mb-0_1_0' .*--filter-pattern '"req-0"'\)\nhello from lambda\n/,
    );
    assert.match(
      r.stdout,
      /── call 1 · failed · attempt 1 · [^\n]* ──\n\(logs: CloudWatch log group [^\n]*\)\n\(no output\)\n!! Error: boom/,
    );
    const json = JSON.parse(ok(await burst(['logs', 'lam/M000', '1', '--json'], box)).stdout) as Array<{
      cloudWatch: unknown;
    }>;
    assert.deepEqual(json[0]?.cloudWatch, where('req-1'));
  });

  it('burst clean --runtimes on a backend without runtimes says so and cleans storage as usual', async () => {
    const r = ok(await burst(['clean', '--runtimes', '--dry-run'], box));
    assert.match(r.stdout, /The localhost backend has no runtimes to delete\./);
    assert.match(r.stdout, /Would remove \d+ objects?/);
  });

  it('the cost estimate bills a chunk of calls as one request for its span', () => {
    const call = (callId: number, requestId: string, workerStart: number, fnEnd: number): CallLike => ({
      executorId: 'e',
      jobId: 'M000',
      callId,
      status: 'success',
      stats: {
        workerStart,
        fnStart: workerStart + 10,
        fnEnd,
        cold: true,
        attempt: 1,
        hostname: where(requestId).logStream,
        location: lambdaLocation(where(requestId)),
      },
    });
    // Two invocations: calls 0-2 side by side from 1000 to 1500 ms, call 3 alone for 200 ms.
    const calls = [
      call(0, 'a', 1000, 1400),
      call(1, 'a', 1000, 1500),
      call(2, 'a', 1100, 1300),
      call(3, 'b', 5000, 5200),
    ];
    const cost = estimateCost(calls, { backend: 'aws_lambda', memoryMB: 2048 });
    assert.ok(cost);
    assert.equal(cost.invocations, 2);
    assert.ok(Math.abs(cost.gbSeconds - (0.5 + 0.2) * 2) < 1e-9, `got ${cost.gbSeconds}`);
    assert.ok(Math.abs(cost.total - (cost.gbSeconds * 0.0000166667 + 2 * 0.0000002)) < 1e-12);
  });
});
