/**
 * Client side: fills an empty input prefix with test images. The six photographs of the face-api
 * package are uploaded as they are; the rest are made from them in parallel by `makeVariant` calls.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FunctionExecutor, Storage } from 'burst-compute';
import { SAMPLE_COUNT, makeVariant, variantName } from './variants.js';

/** Where the face-api package keeps its sample photographs. */
export function samplesDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
}

/** Writes `count` test images under `prefix` (a URI ending in `/`); returns their URIs. */
export async function seedImages(
  fexec: FunctionExecutor,
  storage: Storage,
  prefix: string,
  count: number,
): Promise<string[]> {
  const dir = samplesDir();
  const originals = Math.min(count, SAMPLE_COUNT);
  // Images 0-5 are the photographs themselves; the variants read them back from storage.
  await Promise.all(
    Array.from({ length: originals }, async (_, k) =>
      storage.put(`${prefix}${variantName(k)}`, await readFile(join(dir, `sample${k + 1}.jpg`))),
    ),
  );
  const made =
    count > SAMPLE_COUNT
      ? await fexec.getResult(
          await fexec.map(
            makeVariant,
            Array.from({ length: count - SAMPLE_COUNT }, (_, i) => SAMPLE_COUNT + i),
            { extraArgs: { prefix } },
          ),
        )
      : [];
  return [...Array.from({ length: originals }, (_, k) => `${prefix}${variantName(k)}`), ...made];
}
