/** Chaining, futures as inputs and streaming reduce on the localhost backend, both channels. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainSuite } from './chain-suite.ts';

let root: string | undefined;
const fsRoot = async (): Promise<string> => (root ??= await mkdtemp(join(tmpdir(), 'burst-chain-')));

chainSuite('localhost (IPC channel)', {
  storageChannel: false,
  options: async () => ({ workers: 2, storage: 'fs', fs: { root: await fsRoot() }, progress: false }),
});

chainSuite('localhost (storage channel)', {
  storageChannel: true,
  lean: true,
  options: async () => ({
    workers: 3,
    storage: 'fs',
    fs: { root: await fsRoot() },
    localhost: { channel: 'storage' },
    progress: false,
  }),
  cleanup: async () => {
    if (root) await rm(root, { recursive: true, force: true });
  },
});
