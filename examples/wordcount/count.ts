/** The word count's map and reduce functions, shipped to the workers by Burst. */
import type { DataPartition } from 'burst-compute';

/** Counts the words of one chunk (lower-cased, letters and digits only). */
export async function countWords(part: DataPartition): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const line of part.lines()) {
    for (const word of line.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}

/** Merges the chunks' counts. */
export function mergeCounts(parts: Map<string, number>[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const part of parts) for (const [word, n] of part) total.set(word, (total.get(word) ?? 0) + n);
  return total;
}
