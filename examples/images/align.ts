/**
 * The function each call runs: read one image from storage, find its faces, and write each face,
 * cropped and aligned, back to storage under the output prefix.
 */
import type { CallContext, DataPartition } from 'burst-compute';
import { alignedCrop, alignment, decode, shrink, EYE_X, EYE_Y } from './crop.js';
import { detectFaces, findEyes, loadFaceApi, type DetectorName, type RgbImage } from './detector.js';

/** The settings every call gets (`extraArgs`). */
export interface AlignArgs {
  /** URI prefix the aligned faces are written under, e.g. `fs://burst-examples/faces-aligned/`. */
  output: string;
  /** Side of the aligned square in pixels. */
  size: number;
  detector: DetectorName;
  minConfidence: number;
  /** Longer side the image is scaled to for detection (the crops come from the full image). */
  detectSide: number;
}

/** One aligned face. */
export interface AlignedFace {
  /** URI of the aligned JPEG. */
  output: string;
  score: number;
  /** Bounding box in the input image: x, y, width, height. */
  box: [number, number, number, number];
  /** Tilt of the eyes in the input image, in degrees. */
  roll: number;
  /** Tilt of the eyes found again in the aligned crop (≈ 0 when the alignment worked), in degrees. */
  residualRoll: number | null;
}

/** What one call returns. */
export interface ImageResult {
  input: string;
  width: number;
  height: number;
  faces: AlignedFace[];
  /** Why the object was skipped (it is not an image sharp can decode), if it was. */
  skipped?: string;
  /** Milliseconds spent detecting, and in the whole call (with loading the models, on a worker's first call). */
  detectMs: number;
  totalMs: number;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

/**
 * Aligns every face of one image and stores the crops with `ctx.storage`. Burst hands each call one
 * object of the input prefix as a {@link DataPartition}; `part.bytes()` reads it from where it lives.
 */
export async function alignFaces(part: DataPartition, ctx: CallContext<AlignArgs>): Promise<ImageResult> {
  const t0 = performance.now();
  const { output, size, detector, minConfidence, detectSide } = ctx.args;
  const input = part.uri;
  let image: RgbImage;
  try {
    image = await decode(await part.bytes());
  } catch (err) {
    // Not an image: skip it rather than fail the call (a folder may hold a README or a manifest).
    return {
      input,
      width: 0,
      height: 0,
      faces: [],
      skipped: (err as Error).message,
      detectMs: 0,
      totalMs: Math.round(performance.now() - t0),
    };
  }
  const { image: small, factor } = await shrink(image, detectSide);
  await loadFaceApi(); // once per worker process: not part of the detection time
  const t1 = performance.now();
  const found = await detectFaces(small, detector, minConfidence);
  const detectMs = performance.now() - t1;
  const base = (input.split('/').pop() ?? 'image').replace(/\.[^.]+$/, '');
  const faces: AlignedFace[] = [];
  for (const [k, f] of found.entries()) {
    const up = (p: { x: number; y: number }) => ({ x: p.x / factor, y: p.y / factor });
    const a = alignment(up(f.leftEye), up(f.rightEye));
    const jpeg = await alignedCrop(image, a, size);
    const uri = `${output}${base}-face${k}.jpg`;
    await ctx.storage.put(uri, jpeg);
    faces.push({
      output: uri,
      score: r1(f.score * 100) / 100,
      box: f.box.map((v) => Math.round(v / factor)) as AlignedFace['box'],
      roll: r1(a.roll),
      residualRoll: await residual(jpeg, size),
    });
  }
  return {
    input,
    width: image.width,
    height: image.height,
    faces,
    detectMs: Math.round(detectMs),
    totalMs: Math.round(performance.now() - t0),
  };
}

/**
 * Checks the alignment: finds the eyes again in the aligned crop and returns their tilt in degrees,
 * or null when the landmark net puts them far from where the alignment placed them (a profile face).
 */
async function residual(jpeg: Buffer, size: number): Promise<number | null> {
  const { leftEye, rightEye } = await findEyes(await decode(jpeg));
  const expected = [EYE_X[0] * size, EYE_X[1] * size];
  const off = Math.max(
    Math.abs(leftEye.x - expected[0]!),
    Math.abs(rightEye.x - expected[1]!),
    Math.abs(leftEye.y - EYE_Y * size),
    Math.abs(rightEye.y - EYE_Y * size),
  );
  if (off > 0.15 * size) return null;
  return r1((Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x) * 180) / Math.PI);
}
