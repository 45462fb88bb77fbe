/** The partition property suite on the in-process stores: memory (named, so a re-created driver sees it) and fs. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fs } from '../../src/storage/fs/driver.js';
import { memory } from '../../src/storage/memory/driver.js';
import { partitionSuite } from './suite.js';

const root = await mkdtemp(join(tmpdir(), 'burst-partition-'));
after(() => rm(root, { recursive: true, force: true }));

partitionSuite('memory', () => ({ driver: memory({ id: `partition-suite-${process.pid}` }), scheme: 'memory' }));
partitionSuite('fs', () => ({ driver: fs({ root }), scheme: 'fs' }));
