// Baseline: faast.js local mode (child processes) with its default options.
import { createRequire } from 'node:module';
import { faast } from 'faastjs';
import { inputs, kernelFile, kernelName, report } from './common.mjs';

const mod = createRequire(import.meta.url)(kernelFile);
const fm = await faast('local', mod);
try {
  const fn = fm.functions[kernelName];
  report(await Promise.all(inputs().map((x) => fn(x))));
} finally {
  await fm.cleanup();
}
