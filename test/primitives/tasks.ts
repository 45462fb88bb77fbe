/** Task functions of the primitives tests: each reaches the executor's primitives through ctx. */
import type { CallContext } from '../../src/index.ts';

/** Adds 1 to the counter `name` once; returns the value it saw. */
export async function bump(name: string, ctx: CallContext): Promise<number> {
  return ctx.primitives.counter(name).add(1);
}

/** A read-modify-write of the value `name` under the lock `name`, with a pause that loses updates without it. */
export async function lockedIncrement(name: string, ctx: CallContext): Promise<void> {
  const lock = ctx.primitives.lock(name, { leaseSeconds: 5 });
  await lock.withLock(async () => {
    const v = ctx.primitives.value<number>(name);
    const seen = (await v.get()) ?? 0;
    await new Promise((r) => setTimeout(r, 20));
    await v.set(seen + 1);
  });
}

/** Takes the lock, says so through an event, then dies holding it. */
export async function dieHoldingLock(name: string, ctx: CallContext): Promise<void> {
  await ctx.primitives.lock(name, { leaseSeconds: 1 }).acquire();
  await ctx.primitives.event(`${name}-held`).set();
  // Dies at once, without releasing anything (a SIGKILL to its own pid would, on localhost's worker
  // threads, take the whole client down: that is what isolation: 'process' is for).
  process.exit(137);
  await new Promise((r) => setTimeout(r, 60_000));
}

/** Puts `n` numbers on queue `name` and ends it. */
export async function produce(input: { name: string; n: number }, ctx: CallContext): Promise<number> {
  const q = ctx.primitives.queue<number>(input.name);
  for (let i = 0; i < input.n; i++) await q.put(i);
  await q.end();
  return input.n;
}

/** Takes values from queue `name` until it ends; returns them. */
export async function consume(name: string, ctx: CallContext): Promise<number[]> {
  const got: number[] = [];
  for await (const v of ctx.primitives.queue<number>(name)) got.push(v);
  return got;
}

/** Waits at the barrier, then returns the round number. */
export async function meet(
  input: { name: string; parties: number; timeout?: number },
  ctx: CallContext,
): Promise<number> {
  return ctx.primitives.barrier(input.name, input.parties).wait(input.timeout ? { timeout: input.timeout } : {});
}

/** Waits for the event `name`, then returns the job-scoped counter's value after adding 1. */
export async function awaitEvent(name: string, ctx: CallContext): Promise<number> {
  await ctx.primitives.event(name).wait({ timeout: 30 });
  return ctx.primitives.forJob(ctx.jobId).counter('seen').add(1);
}

/** The endpoint variable the task got (to attack the local socket with it). */
export async function endpointOf(_: number): Promise<string | undefined> {
  return process.env.BURST_PRIMITIVES_ENDPOINT;
}

/**
 * Squats the folder the client's primitives server will make (as another local user who learnt its
 * name would), with a socket of its own, then uses the primitives: the client must refuse the folder.
 */
export async function squatThenUse(_: number, ctx: CallContext): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { createServer } = await import('node:net');
  const { socket } = JSON.parse(process.env.BURST_PRIMITIVES_ENDPOINT as string) as { socket: string };
  await mkdir(dirname(socket), { mode: 0o777 });
  const squatter = createServer((s) => s.end('{"i":1,"ok":true,"v":1}\n'));
  await new Promise<void>((r) => squatter.listen(socket, () => r()));
  try {
    await ctx.primitives.counter('squat').add(1);
    return 'no error';
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  } finally {
    squatter.close();
  }
}

/** Touches ctx.primitives and reports what it threw. */
export async function primitivesError(_: number, ctx: CallContext): Promise<string> {
  try {
    await ctx.primitives.counter('x').add(1);
    return 'no error';
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
}
