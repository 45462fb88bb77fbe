/**
 * Fault 2 of issue 8: the storage goes away for 10 s in the middle of a job and comes back. Between
 * Burst and the real Ceph gateway sits a TCP relay that the test shuts (connections refused and cut)
 * and reopens on the same port: the job completes; a wait with a deadline shorter than the outage
 * fails with a storage error naming the endpoint. Never a hang.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { FunctionExecutor, StorageUnavailableError, type ExecutorOptions } from '../../src/index.ts';
import { ensureCeph, type CephService } from '../services.ts';
import { sleepMs } from '../fixtures/tasks.ts';

/** A TCP relay to `target` that can be shut and reopened on the same port. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async shut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

const ceph = await ensureCeph();
const skip = 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined;

describe('storage outage in the middle of a job', { skip }, () => {
  let relay: Relay;
  let options: ExecutorOptions;
  before(async () => {
    const c = ceph as CephService;
    relay = new Relay(new URL(c.endpoint));
    await relay.open();
    const s3 = {
      endpoint: `http://127.0.0.1:${relay.port}`,
      region: c.region,
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      forcePathStyle: true,
      maxAttempts: 2,
    };
    options = {
      storage: 's3',
      s3,
      bucket: 'burst-outage',
      localhost: { channel: 'storage' },
      workers: 2,
      progress: false,
    };
  });
  after(async () => {
    await relay.shut();
  });

  test('a 10 s outage: the job completes', async () => {
    const fexec = new FunctionExecutor(options);
    try {
      const futures = await fexec.map(sleepMs, [1500, 1500, 1500, 1500]);
      await new Promise((r) => setTimeout(r, 500));
      await relay.shut();
      await new Promise((r) => setTimeout(r, 10_000));
      await relay.open();
      assert.deepEqual(await fexec.getResult(futures, { timeout: 180 }), [1500, 1500, 1500, 1500]);
    } finally {
      await fexec.close();
    }
  });

  test('a deadline shorter than the outage: a storage error that names the endpoint', async () => {
    const fexec = new FunctionExecutor(options);
    try {
      const futures = await fexec.map(sleepMs, [1000, 1000]);
      await relay.shut();
      await assert.rejects(fexec.getResult(futures, { timeout: 6 }), (err: unknown) => {
        assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${relay.port}`));
        assert.match(err.message, /did not finish within 6 s/);
        return true;
      });
    } finally {
      await relay.open();
      await fexec.close();
    }
  });
});
