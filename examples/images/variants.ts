/**
 * Test images made from the six photographs that ship with @vladmandic/face-api (demo/sample1-6.jpg):
 * image k is sample (k mod 6) + 1, turned by an angle and mirrored in a pattern, so that a run of any
 * size has distinct images whose faces need real alignment. This function runs in the workers.
 */
import sharp from 'sharp';
import type { CallContext } from 'burst-compute';

/** The package's sample photographs. */
export const SAMPLE_COUNT = 6;

/** Angles the variants are turned by, in degrees (0 for the first round: the photographs as they are). */
const ANGLES = [0, 15, -15, 30, -30, 8, -8, 22, -22];

/** How image `k` is made: from which sample, turned by how much, mirrored or not. */
export function variantOf(k: number): { sample: number; angle: number; mirror: boolean } {
  const round = Math.floor(k / SAMPLE_COUNT);
  return {
    sample: (k % SAMPLE_COUNT) + 1,
    angle: ANGLES[round % ANGLES.length] as number,
    mirror: Math.floor(round / ANGLES.length) % 2 === 1,
  };
}

/** The key (file name) of image `k`, e.g. `0007-sample2-r15.jpg` or `0000-sample1.jpg`. */
export function variantName(k: number): string {
  const v = variantOf(k);
  const turn = v.angle === 0 ? '' : `-r${v.angle}`;
  return `${String(k).padStart(4, '0')}-sample${v.sample}${turn}${v.mirror ? '-m' : ''}.jpg`;
}

/** Reads the sample from `prefix` (where the photographs were uploaded as images 0-5) and writes image `k`. */
export async function makeVariant(k: number, ctx: CallContext<{ prefix: string }>): Promise<string> {
  const v = variantOf(k);
  const source = await ctx.storage.get(`${ctx.args.prefix}${variantName(v.sample - 1)}`);
  let img = sharp(source).autoOrient();
  if (v.mirror) img = img.flop();
  // Re-encoding at most 1600 px wide keeps the inputs small; the corners a rotation uncovers are grey.
  const jpeg = await img
    .rotate(v.angle, { background: { r: 128, g: 128, b: 128 } })
    .resize(1600, 1600, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 88 })
    .toBuffer();
  const uri = `${ctx.args.prefix}${variantName(k)}`;
  await ctx.storage.put(uri, jpeg);
  return uri;
}
