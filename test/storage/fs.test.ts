import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fs } from '../../src/storage/fs.js';
import { storageConformance } from './suite.js';

storageConformance('fs', () => fs({ root: mkdtempSync(join(tmpdir(), 'burst-fs-conf-')) }));
