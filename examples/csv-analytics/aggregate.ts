/** Per-group sums over CSV chunks, and their merge: the map and reduce functions of the example. */
import type { DataPartition } from 'burst-compute';

/** Sum, count, min and max of a column per group. */
export type Groups = Record<string, { sum: number; count: number; min: number; max: number }>;

/** Aggregates `delay` per `carrier` over one chunk of a flights CSV (header: carrier,origin,dest,distance,delay). */
export async function aggregateChunk(part: DataPartition): Promise<Groups> {
  const groups: Groups = {};
  for await (const line of part.lines()) {
    if (line === '' || line.startsWith('carrier,')) continue; // the header sits in the first chunk only
    const [carrier, , , , delayText] = line.split(',');
    const delay = Number(delayText);
    if (!carrier || !Number.isFinite(delay)) continue;
    const g = (groups[carrier] ??= { sum: 0, count: 0, min: Infinity, max: -Infinity });
    g.sum += delay;
    g.count++;
    g.min = Math.min(g.min, delay);
    g.max = Math.max(g.max, delay);
  }
  return groups;
}

/** Merges the chunks' groups. */
export function mergeGroups(parts: Groups[]): Groups {
  const out: Groups = {};
  for (const part of parts) {
    for (const [key, g] of Object.entries(part)) {
      const o = (out[key] ??= { sum: 0, count: 0, min: Infinity, max: -Infinity });
      o.sum += g.sum;
      o.count += g.count;
      o.min = Math.min(o.min, g.min);
      o.max = Math.max(o.max, g.max);
    }
  }
  return out;
}
