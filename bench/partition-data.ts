/**
 * Data for the partition benchmark: a generated text object (ASCII words, lines of 5-16 words, so
 * every word counter agrees on the count), `wc -w` timings, and many small objects for planning.
 */
import { execFile } from 'node:child_process';
import { open, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const WORDS =
  'the quick brown fox jumps over a lazy dog while lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(
    ' ',
  );

/** Writes exactly `size` bytes of text to `path`, ending with a newline (deterministic). Returns the size. */
export async function generateText(path: string, size: number): Promise<number> {
  const file = await open(path, 'w');
  let x = 0x9e3779b9;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let written = 0;
  try {
    while (written < size) {
      const lines: string[] = [];
      let block = 0;
      while (block < 4 * 2 ** 20 && written + block < size) {
        const n = 5 + (rnd() % 12);
        const words: string[] = [];
        for (let i = 0; i < n; i++) words.push(WORDS[rnd() % WORDS.length] as string);
        const line = `${words.join(' ')}\n`;
        lines.push(line);
        block += line.length;
      }
      let buf = Buffer.from(lines.join(''));
      if (written + buf.length > size) {
        buf = buf.subarray(0, size - written); // exactly `size` bytes: cut the last line short
        buf[buf.length - 1] = 0x0a;
      }
      await file.write(buf);
      written += buf.length;
    }
  } finally {
    await file.close();
  }
  return written;
}

/** Runs `wc -w` on `path` with the given locale (undefined: this environment's); returns the count and seconds. */
export function wcWords(path: string, locale?: string): Promise<{ words: number; seconds: number }> {
  const env = { ...process.env, ...(locale ? { LC_ALL: locale } : {}) };
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    execFile('wc', ['-w', path], { env }, (err, stdout) => {
      if (err) return reject(err);
      resolve({ words: Number(stdout.trim().split(/\s+/)[0]), seconds: (performance.now() - t0) / 1000 });
    }),
  );
}

/** Writes `n` small text files named `00000.txt`... into `dir`, 64 at a time. */
export async function writeManyFiles(dir: string, n: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, n - i) }, (_, j) =>
        writeFile(join(dir, `${String(i + j).padStart(5, '0')}.txt`), `object ${i + j}\n`),
      ),
    );
  }
}

/** Parses sizes such as `1g`, `256m`, `64k` or a byte count. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]i?b?)?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(text)} (e.g. 1g, 256m, 65536)`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const scale = unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : 1;
  return Math.round(Number(m[1]) * scale);
}
