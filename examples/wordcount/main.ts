/**
 * Word count by map-reduce over a large text object, split into chunks without breaking a line.
 * With no --input it generates a text object in the default local store first.
 *
 *   npm run example:wordcount -- [--input s3://bucket/key] [--mib 64] [--chunk-mib 8] [--small] [--json]
 */
import { parseArgs } from 'node:util';
import { FunctionExecutor, Storage } from 'burst-compute';
import { countWords, mergeCounts } from './count.js';
import { executorFlags, executorFlagsHelp, executorOptions, parseFlags } from '../shared/executor-flags.js';

const HELP = `Usage: npm run example:wordcount -- [options]

  --input URI      text object to count (default: a generated one in fs://burst-examples/wordcount/)
  --mib N          size of the generated text in MiB  (default 64)
  --chunk-mib N    chunk size in MiB                  (default 8)
  --small          2 MiB in 0.25 MiB chunks (the test size)
  --json           print the result as one JSON line
${executorFlagsHelp}`;

const flags = parseFlags(HELP, () =>
  parseArgs({
    options: {
      input: { type: 'string' },
      mib: { type: 'string', default: '64' },
      'chunk-mib': { type: 'string', default: '8' },
      small: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...executorFlags,
    },
  }),
);

const VOCABULARY =
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more can about said what out up'.split(
    ' ',
  );

/** Writes about `bytes` of seeded pseudo-text and returns its URI and word count. */
async function generate(bytes: number): Promise<{ uri: string; words: number }> {
  const storage = new Storage({ driver: 'fs' });
  await storage.createBucket('burst-examples').catch(() => undefined);
  let seed = 42;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines: string[] = [];
  let size = 0;
  let words = 0;
  while (size < bytes) {
    const n = 1 + Math.floor(next() * 20);
    const line = Array.from({ length: n }, () => VOCABULARY[Math.floor(next() * next() * VOCABULARY.length)]).join(' ');
    lines.push(line);
    size += line.length + 1;
    words += n;
  }
  const uri = 'fs://burst-examples/wordcount/text.txt';
  await storage.put(uri, `${lines.join('\n')}\n`);
  await storage.close();
  return { uri, words };
}

const mib = flags.small ? 2 : Number(flags.mib);
const chunk = (flags.small ? 0.25 : Number(flags['chunk-mib'])) * 2 ** 20;
const generated = flags.input ? undefined : await generate(mib * 2 ** 20);
const uri = flags.input ?? (generated as { uri: string }).uri;

const fexec = new FunctionExecutor(executorOptions(flags));
const t0 = Date.now();
const [counts] = await fexec.getResult(
  await fexec.mapReduce(countWords, uri, mergeCounts, { objChunkSize: Math.round(chunk) }),
);
const seconds = (Date.now() - t0) / 1000;
await fexec.close();

const total = [...(counts as Map<string, number>).values()].reduce((a, b) => a + b, 0);
const top = [...(counts as Map<string, number>)].sort((a, b) => b[1] - a[1]).slice(0, 10);
if (flags.json) {
  console.log(JSON.stringify({ uri, total, expected: generated?.words ?? null, distinct: counts?.size, top, seconds }));
} else {
  console.log(`${uri}: ${total} words (${counts?.size} distinct) in ${seconds.toFixed(2)} s`);
  if (generated)
    console.log(
      `generated ${generated.words} words: ${generated.words === total ? 'every word counted exactly once' : 'MISMATCH'}`,
    );
  for (const [word, n] of top) console.log(`${word.padEnd(10)} ${String(n).padStart(10)}`);
}
