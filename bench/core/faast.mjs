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
// faast.js 8 leaves a ~60 s timer per local call after cleanup() (its childProcessTimeoutMs, set in
// wrapper.js and not cleared when cleanup stops the child), which would hold this process ~60 s past
// its results: exit here, as a faast.js user who noticed would.
process.exit(0);
