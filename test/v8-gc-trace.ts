/**
 * Reads V8's GC trace (`node --trace-gc --trace-parallel-scavenge`, printed on stdout): each
 * collection of each isolate in the order the trace has them, with the scavenger tasks a scavenge
 * used (one `scavenge[…]` line per task). Used by test/worker/scavenges.test.ts and bench/overhead.ts.
 */

/** One collection: the isolate's address, its kind, its scavenger tasks (scavenges) and its line. */
export interface TracedGc {
  isolate: string;
  kind: 'scavenge' | 'mark-compact';
  tasks: number;
  line: string;
}

export function tracedGcs(out: string): TracedGc[] {
  const gcs: TracedGc[] = [];
  const tasks = new Map<string, number>();
  // V8 prints an isolate's "[pid:isolate] " prefix and its message in two writes, so two threads can
  // interleave as "[A] [B] message of B", with A's message on the next line, unprefixed.
  const orphans: string[] = [];
  for (const line of out.split('\n')) {
    const prefixes = /^(?:\[\d+:0x[0-9a-f]+\] )+/.exec(line)?.[0] ?? '';
    const isolates = [...prefixes.matchAll(/0x[0-9a-f]+/g)].map((m) => m[0]);
    const isolate = isolates.pop() ?? (/^ *(scavenge\[|\d+ ms: )/.test(line) ? orphans.shift() : undefined);
    orphans.push(...isolates);
    if (!isolate) continue;
    if (line.includes('scavenge[')) tasks.set(isolate, (tasks.get(isolate) ?? 0) + 1);
    else if (line.includes(' Scavenge ')) {
      gcs.push({ isolate, kind: 'scavenge', tasks: tasks.get(isolate) ?? 0, line });
      tasks.set(isolate, 0);
    } else if (line.includes(' Mark-Compact ')) gcs.push({ isolate, kind: 'mark-compact', tasks: 0, line });
  }
  return gcs;
}
