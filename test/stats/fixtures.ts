/**
 * Synthetic calls with known timings, for the stats tests: call i is submitted at t0, waits 10·i ms,
 * runs 100 + 10·i ms and returns in 5 ms; call 3 fails; call 4 needed two attempts; call 5 is still
 * running and call 6 still waiting.
 */
import type { CallLike, CallState, CallTimes } from '../../src/stats/types.ts';

export const T0 = 1_700_000_000_000;

export function syntheticCalls(executorId = 'exec-1', jobId = 'M000'): CallLike[] {
  const calls: CallLike[] = [];
  for (let i = 0; i < 7; i++) {
    const fnStart = T0 + 10 * i;
    const fnEnd = fnStart + 100 + 10 * i;
    let status: CallState = i === 3 ? 'error' : 'success';
    const stats: CallTimes = {
      submitted: T0,
      invoked: T0,
      workerStart: T0 - 50,
      fnStart,
      fnEnd,
      resultReceived: fnEnd + 5,
      cold: i < 2,
      attempt: i === 4 ? 2 : 1,
      bytesIn: 10,
      bytesOut: 20,
      hostname: i % 2 ? 'node-b' : 'node-a',
      pid: 100 + (i % 3),
    };
    if (i === 5) {
      status = 'running';
      delete stats.fnEnd;
      delete stats.resultReceived;
      delete stats.bytesOut;
    }
    if (i === 6) {
      status = 'invoked';
      for (const k of [
        'workerStart',
        'fnStart',
        'fnEnd',
        'resultReceived',
        'cold',
        'bytesIn',
        'bytesOut',
        'hostname',
        'pid',
      ] as const)
        delete stats[k];
    }
    calls.push({
      executorId,
      jobId,
      callId: i,
      status,
      stats,
      ...(status === 'error' ? { error: { name: 'RemoteError', message: 'Error: boom in call 3' } } : {}),
    });
  }
  return calls;
}
