/**
 * Cropping and aligning a face with sharp: rotate the image about the face so that the eyes are level,
 * scale it so that they are a fixed distance apart, and cut a square around them (the usual
 * preparation of faces for a recognition model).
 */
import sharp from 'sharp';
import type { Point, RgbImage } from './detector.js';

/** Where the eyes land in the aligned square, as fractions of its side. */
export const EYE_Y = 0.35;
export const EYE_X = [0.35, 0.65] as const;

/** The rotation, centre and side (in source pixels) of the square that becomes the aligned face. */
export interface Alignment {
  /** Angle of the line from the left eye to the right eye, in degrees (positive: clockwise on screen). */
  roll: number;
  /** Centre of the source square. */
  center: Point;
  /** Side of the source square. */
  side: number;
}

/** The alignment that puts the eyes at (EYE_X, EYE_Y) of the square, whatever its output size. */
export function alignment(leftEye: Point, rightEye: Point): Alignment {
  const dx = rightEye.x - leftEye.x;
  const dy = rightEye.y - leftEye.y;
  const theta = Math.atan2(dy, dx);
  const side = Math.hypot(dx, dy) / (EYE_X[1] - EYE_X[0]);
  // The square's centre lies below the eyes' midpoint, along the face's own "down" direction.
  const down = (0.5 - EYE_Y) * side;
  const center = {
    x: (leftEye.x + rightEye.x) / 2 - down * Math.sin(theta),
    y: (leftEye.y + rightEye.y) / 2 + down * Math.cos(theta),
  };
  return { roll: (theta * 180) / Math.PI, center, side };
}

const GREY = { r: 128, g: 128, b: 128 };

/**
 * The aligned face as a `size`×`size` JPEG. The square may reach past the image's edges (a face near
 * a border); that part is filled with grey.
 */
export async function alignedCrop(img: RgbImage, a: Alignment, size: number, quality = 90): Promise<Buffer> {
  const raw = { width: img.width, height: img.height, channels: 3 as const };
  // 1. A region around the face big enough to hold the square at any angle, padded past the edges.
  const d = Math.ceil(a.side * Math.SQRT2) + 2;
  const left = Math.round(a.center.x - d / 2);
  const top = Math.round(a.center.y - d / 2);
  const l0 = clamp(left, 0, img.width - 1);
  const t0 = clamp(top, 0, img.height - 1);
  const r0 = clamp(left + d, l0 + 1, img.width);
  const b0 = clamp(top + d, t0 + 1, img.height);
  const region = await sharp(img.data, { raw })
    .extract({ left: l0, top: t0, width: r0 - l0, height: b0 - t0 })
    .extend({
      left: l0 - left,
      top: t0 - top,
      right: Math.max(0, left + d - r0),
      bottom: Math.max(0, top + d - b0),
      background: GREY,
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // 2. Level the eyes: rotate the region about its centre (sharp turns clockwise for positive angles).
  const turned = await sharp(region.data, {
    raw: { width: region.info.width, height: region.info.height, channels: 3 },
  })
    .rotate(-a.roll, { background: GREY })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // 3. Cut the square out of the middle and scale it to the output size.
  const side = Math.min(Math.round(a.side), turned.info.width, turned.info.height);
  return sharp(turned.data, { raw: { width: turned.info.width, height: turned.info.height, channels: 3 } })
    .extract({
      left: Math.floor((turned.info.width - side) / 2),
      top: Math.floor((turned.info.height - side) / 2),
      width: side,
      height: side,
    })
    .resize(size, size)
    .jpeg({ quality })
    .toBuffer();
}

/** Decodes an image file (JPEG, PNG, WebP, …), turned upright by its EXIF orientation, to RGB bytes. */
export async function decode(bytes: Uint8Array, maxSide?: number): Promise<RgbImage> {
  let pipeline = sharp(bytes).autoOrient().removeAlpha().toColourspace('srgb');
  if (maxSide !== undefined) pipeline = pipeline.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Scales an RGB image down so that its longer side is at most `maxSide`; returns it and the factor. */
export async function shrink(img: RgbImage, maxSide: number): Promise<{ image: RgbImage; factor: number }> {
  const factor = Math.min(1, maxSide / Math.max(img.width, img.height));
  if (factor === 1) return { image: img, factor };
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(Math.round(img.width * factor), Math.round(img.height * factor))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { image: { data, width: info.width, height: info.height }, factor: info.width / img.width };
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
