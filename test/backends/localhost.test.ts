import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendSuite } from './suite.ts';

let root: string | undefined;
const fsRoot = async (): Promise<string> => (root ??= await mkdtemp(join(tmpdir(), 'burst-localhost-')));

backendSuite('localhost (IPC channel)', {
  options: async () => ({ workers: 2, fs: { root: await fsRoot() }, progress: false }),
});

backendSuite('localhost (storage channel, as remote backends)', {
  options: async () => ({ workers: 2, fs: { root: await fsRoot() }, localhost: { channel: 'storage' }, progress: false }),
  cleanup: async () => {
    if (root) await rm(root, { recursive: true, force: true });
  },
});
