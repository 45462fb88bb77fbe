import { memory } from '../../src/storage/memory.js';
import { storageConformance } from './suite.js';

storageConformance('memory', () => memory());
