/**
 * Per-group analytics over a large CSV object by map-reduce: mean, min and max arrival delay per
 * carrier over a generated flights-style table, chunked without breaking a row.
 *
 *   npm run example:csv-analytics -- [--input s3://bucket/flights.csv] [--rows 1000000] [--chunks 16] [--small] [--json]
 */
import { parseArgs } from 'node:util';
import { FunctionExecutor, Storage } from 'burst-compute';
import { aggregateChunk, mergeGroups, type Groups } from './aggregate.js';
import { executorFlags, executorFlagsHelp, executorOptions, parseFlags } from '../shared/executor-flags.js';

const HELP = `Usage: npm run example:csv-analytics -- [options]

  --input URI      CSV object to analyse (default: a generated one in fs://burst-examples/csv-analytics/)
  --rows N         rows of the generated CSV          (default 1000000)
  --chunks N       chunks (calls) to split it into    (default 16)
  --small          20,000 rows in 4 chunks (the test size)
  --json           print the result as one JSON line
${executorFlagsHelp}`;

const flags = parseFlags(HELP, () =>
  parseArgs({
    options: {
      input: { type: 'string' },
      rows: { type: 'string', default: '1000000' },
      chunks: { type: 'string', default: '16' },
      small: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...executorFlags,
    },
  }),
);

const CARRIERS = ['AA', 'DL', 'UA', 'WN', 'B6', 'AS', 'NK', 'F9'];
const AIRPORTS = ['ATL', 'LAX', 'ORD', 'DFW', 'DEN', 'JFK', 'SFO', 'SEA', 'LAS', 'MCO'];

/** Writes a seeded flights CSV and returns its URI and the groups computed while writing it. */
async function generate(rows: number): Promise<{ uri: string; expected: Groups }> {
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines = ['carrier,origin,dest,distance,delay'];
  const expected: Groups = {};
  for (let i = 0; i < rows; i++) {
    const carrier = CARRIERS[Math.floor(next() * CARRIERS.length)] as string;
    const delay = Math.round((next() - 0.3) * 120 * (1 + CARRIERS.indexOf(carrier) / 8));
    lines.push(
      `${carrier},${AIRPORTS[Math.floor(next() * 10)]},${AIRPORTS[Math.floor(next() * 10)]},${Math.round(200 + next() * 2500)},${delay}`,
    );
    const g = (expected[carrier] ??= { sum: 0, count: 0, min: Infinity, max: -Infinity });
    g.sum += delay;
    g.count++;
    g.min = Math.min(g.min, delay);
    g.max = Math.max(g.max, delay);
  }
  const storage = new Storage({ driver: 'fs' });
  await storage.createBucket('burst-examples').catch(() => undefined);
  const uri = 'fs://burst-examples/csv-analytics/flights.csv';
  await storage.put(uri, `${lines.join('\n')}\n`);
  await storage.close();
  return { uri, expected };
}

const generated = flags.input ? undefined : await generate(flags.small ? 20_000 : Number(flags.rows));
const uri = flags.input ?? (generated as { uri: string }).uri;
const fexec = new FunctionExecutor(executorOptions(flags));
const t0 = Date.now();
const [groups] = await fexec.getResult(
  await fexec.mapReduce(aggregateChunk, uri, mergeGroups, { objChunkNumber: flags.small ? 4 : Number(flags.chunks) }),
);
const seconds = (Date.now() - t0) / 1000;
await fexec.close();

const table = Object.entries(groups as Groups)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([carrier, g]) => ({
    carrier,
    flights: g.count,
    meanDelay: Number((g.sum / g.count).toFixed(2)),
    minDelay: g.min,
    maxDelay: g.max,
  }));
const matches = generated ? JSON.stringify(groups) === JSON.stringify(mergeGroups([generated.expected])) : null;
if (flags.json) {
  console.log(JSON.stringify({ uri, table, matchesDirectComputation: matches, seconds }));
} else {
  console.log(`${uri}: ${table.reduce((n, r) => n + r.flights, 0)} flights in ${seconds.toFixed(2)} s`);
  console.table(table);
  if (generated)
    console.log(
      matches ? 'the map-reduce result equals the direct computation' : 'MISMATCH with the direct computation',
    );
}
