// The first import of every contender script: loads ./timeline.cjs when bench/overhead.ts asks for a
// timeline (BENCH_TIMELINE_FILE), and nothing otherwise. See timeline.cjs for why not a --require.
import { createRequire } from 'node:module';

if (process.env.BENCH_TIMELINE_FILE) createRequire(import.meta.url)('./timeline.cjs');
