"""Writes the example notebooks (run: python3 examples/notebooks/make-notebooks.py). Edit the cells here."""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))

def notebook(cells):
    return {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": text.strip("\n").splitlines(keepends=True),
             **({"outputs": [], "execution_count": None} if kind == "code" else {})}
            for kind, text in cells
        ],
        "metadata": {"kernelspec": {"name": "tslab", "display_name": "TypeScript", "language": "typescript"},
                     "language_info": {"name": "typescript"}},
        "nbformat": 4, "nbformat_minor": 5,
    }

MONTE_CARLO = [
("markdown", """
# Monte Carlo stock forecast, in a notebook

The same simulation as `examples/monte-carlo` (`--small`: 2,000 forecasts on 20 calls, seed 1), with the
function written in this notebook. Burst ships cell functions to its workers; the progress shows below the
cell that waits.
"""),
("code", """
import { FunctionExecutor, notebook } from "burst-compute";
const SEED = 1, FORECASTS = 2000, CALLS = 20, DAYS = 1080, S0 = 100;
"""),
("code", """
/** mulberry32, as in examples/monte-carlo/forecast.ts. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Task { seed: number; paths: number; days: number }

/** One call: `paths` price paths by geometric Brownian motion (mu 0.05, sigma 0.2). */
function forecast(t: Task): { mid: Float64Array; final: Float64Array } {
  const dt = 1 / 252;
  const drift = (0.05 - 0.5 * 0.2 ** 2) * dt;
  const vol = 0.2 * Math.sqrt(dt);
  const rand = rng(t.seed * 2654435761 + 1);
  const mid = new Float64Array(t.paths);
  const final = new Float64Array(t.paths);
  const half = Math.floor(t.days / 2);
  for (let p = 0; p < t.paths; p++) {
    let logPrice = Math.log(S0);
    for (let d = 1; d <= t.days; d++) {
      const u1 = rand() || Number.MIN_VALUE;
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rand());
      logPrice += drift + vol * z;
      if (d === half) mid[p] = Math.exp(logPrice);
    }
    final[p] = Math.exp(logPrice);
  }
  return { mid, final };
}
"""),
("code", """
const base = (SEED * 1_000_003) % 2 ** 21;
const per = Math.floor(FORECASTS / CALLS);
const tasks: Task[] = Array.from({ length: CALLS }, (_, i) => ({
  seed: base + i,
  paths: per + (i < FORECASTS % CALLS ? 1 : 0),
  days: DAYS,
}));
const fexec = new FunctionExecutor();
"""),
("code", """
const futures = await fexec.map(forecast, tasks);
const results = await fexec.getResult(futures);
"""),
("code", """
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const a = sorted[i], b = sorted[Math.min(i + 1, sorted.length - 1)];
  return a + (b - a) * (pos - i);
}
const final = Float64Array.from(results.flatMap((r) => [...r.final])).sort();
const mid = Float64Array.from(results.flatMap((r) => [...r.mid])).sort();
notebook.table([1, 5, 25, 50, 75, 95, 99].map((p) => ({
  percentile: `p${p}`,
  [`day ${Math.floor(DAYS / 2)}`]: quantile(mid, p / 100).toFixed(4),
  [`day ${DAYS}`]: quantile(final, p / 100).toFixed(4),
})));
const losses = final.filter((v) => v < S0).length;
console.log(`P(price on day ${DAYS} < ${S0}) = ${((100 * losses) / FORECASTS).toFixed(2)}%`);
"""),
("code", """
/** The histogram of final prices between the 0.5th and 99.5th percentiles, as SVG. */
function histogramSvg(sorted: Float64Array, bins: number): string {
  const lo = quantile(sorted, 0.005), hi = quantile(sorted, 0.995);
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) {
    const i = Math.floor((v - lo) / width);
    if (i >= 0 && i < bins) counts[i]++;
  }
  const max = Math.max(...counts);
  const bars = counts.map((c, i) =>
    `<rect x="${40 + i * 20}" y="${220 - (200 * c) / max}" width="18" height="${(200 * c) / max}" fill="#4a7ebb"><title>${(lo + i * width).toFixed(1)}: ${c}</title></rect>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${60 + bins * 20}" height="250">` +
    `<text x="40" y="14" font-size="12">price on day ${DAYS}, ${FORECASTS} forecasts, seed ${SEED}</text>${bars.join("")}` +
    `<text x="40" y="240" font-size="10">${lo.toFixed(1)}</text><text x="${20 + bins * 20}" y="240" font-size="10">${hi.toFixed(1)}</text></svg>`;
}
notebook.svg(histogramSvg(final, 24));
"""),
("code", """
notebook.summary(fexec);
await notebook.plot(fexec);
"""),
("markdown", """
A failing call: the error comes back with the remote stack, pointing into this cell's function.
"""),
("code", """
function checked(t: Task) {
  if (t.paths > 50) throw new RangeError(`too many paths: ${t.paths}`);
  return t.paths;
}
try {
  await fexec.getResult(await fexec.map(checked, [{ seed: 1, paths: 10, days: 2 }, { seed: 2, paths: 99, days: 2 }]));
} catch (e) {
  console.log(String(e));
  console.log((e as Error).stack);
}
await fexec.close();
"""),
]

WORDCOUNT = [
("markdown", """
# Word count over a folder, in a notebook

The text of `examples/wordcount --small` (2 MiB of seeded pseudo-text, seed 42), written as 8 files in a
folder; one call counts one file, a reduce merges the counts.
"""),
("code", """
import { FunctionExecutor, notebook, type DataPartition } from "burst-compute";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
"""),
("code", """
const VOCABULARY =
  "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more can about said what out up".split(" ");
let seed = 42;
const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const lines: string[] = [];
let size = 0;
let generated = 0;
while (size < 2 * 2 ** 20) {
  const n = 1 + Math.floor(next() * 20);
  lines.push(Array.from({ length: n }, () => VOCABULARY[Math.floor(next() * next() * VOCABULARY.length)]).join(" "));
  size += lines[lines.length - 1].length + 1;
  generated += n;
}
const folder = await mkdtemp(join(tmpdir(), "burst-wordcount-"));
for (let f = 0; f < 8; f++) {
  await writeFile(join(folder, `part-${f}.txt`), lines.filter((_, i) => i % 8 === f).join("\\n") + "\\n");
}
console.log(`${generated} words in 8 files in ${folder}`);
"""),
("code", """
/** Counts the words of one file (lower-cased, letters and digits only), as examples/wordcount/count.ts. */
async function countWords(part: DataPartition): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const line of part.lines()) {
    for (const word of line.toLowerCase().split(/[^\\p{L}\\p{N}]+/u)) {
      if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}

function mergeCounts(parts: Map<string, number>[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const part of parts) for (const [word, n] of part) total.set(word, (total.get(word) ?? 0) + n);
  return total;
}
"""),
("code", """
const fexec = new FunctionExecutor();
// A local folder is a data location: one call per file in it.
const reduced = await fexec.mapReduce(countWords, `${folder}/`, mergeCounts);
const [counts] = await fexec.getResult(reduced);
"""),
("code", """
const total = [...counts.values()].reduce((a, b) => a + b, 0);
console.log(`${total} words (${counts.size} distinct); generated ${generated}: ${total === generated ? "every word counted exactly once" : "MISMATCH"}`);
notebook.table([...counts].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([word, n]) => ({ word, n })));
notebook.summary(fexec);
await fexec.close();
"""),
]

for name, cells in [("monte-carlo.ipynb", MONTE_CARLO), ("wordcount.ipynb", WORDCOUNT)]:
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(notebook(cells), f, indent=1)
        f.write("\n")
